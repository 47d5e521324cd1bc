# libsluice: the embeddable client (include/sluice/client.h, docs/client.md).
# The gateway's provider layer (src/provider), upstream client
# (src/http/upstream*.c), provider config types (src/core/config.c) and JSON
# module, with the client API (src/client) on top. Two builds: static
# libsluice.a from the gateway's own objects, shared libsluice.so from PIC
# objects in $(BUILD)/pic/ exporting only the public API (libsluice.map).
# A program links: -lsluice $(CLIENT_LDLIBS).
CLIENT_SRCS := $(wildcard src/client/*.c) $(wildcard src/provider/*.c) $(wildcard src/http/upstream*.c) src/http/h1client.c src/http/h1parse.c \
               src/core/config.c $(wildcard src/json/*.c)
CLIENT_LDLIBS := -lcurl -luv -lh2o -lm -pthread
LIBS += $(BUILD)/libsluice.a $(BUILD)/libsluice.so

$(BUILD)/libsluice.a: $(CLIENT_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/libsluice.so: $(CLIENT_SRCS:%.c=$(BUILD)/pic/%.o) src/client/libsluice.map
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=src/client/libsluice.map -Wl,-soname,libsluice.so \
	    -o $@ $(filter %.o,$^) $(CLIENT_LDLIBS)

# The example (examples/client/README.md): sluice-chat linked statically, and
# the same program linked against libsluice.so (found next to the build's
# top directory through its rpath).
CLIENT_EX := $(BUILD)/examples/client
BINS += $(CLIENT_EX)/sluice-chat $(CLIENT_EX)/sluice-chat-shared
$(CLIENT_EX)/sluice-chat: $(BUILD)/examples/client/sluice-chat.o $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_LDLIBS)
$(CLIENT_EX)/sluice-chat-shared: $(BUILD)/examples/client/sluice-chat.o $(BUILD)/libsluice.so
	$(CC) $(LDFLAGS) -o $@ $< -L$(BUILD) -lsluice -Wl,-rpath,'$$ORIGIN/../..'
