# WebAssembly engine: libsluice_wasm.a (libc/libm/pthread only) and the CLI.
WASM_SRCS := src/wasm/decode.c src/wasm/compile.c src/wasm/fuse.c src/wasm/inline.c src/wasm/interp.c src/wasm/instance.c \
             src/wasm/api.c src/wasm/wasi.c
WASM_SRCS += $(wildcard src/wasm/aot/*.c)   # compiled tier (docs/wasm-aot.md)
WASM_OBJS := $(WASM_SRCS:%.c=$(BUILD)/%.o)
WASM_LIB  := $(BUILD)/libsluice_wasm.a
LIBS += $(WASM_LIB)

$(WASM_LIB): $(WASM_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

WASM_CLI_SRCS := src/wasm/cli/main.c src/wasm/cli/spec.c src/wasm/cli/json.c
BINS += $(BUILD)/sluice-wasm
$(BUILD)/sluice-wasm: $(WASM_CLI_SRCS:%.c=$(BUILD)/%.o) $(WASM_LIB)
	$(CC) $(LDFLAGS) $^ -lm -o $@

# The interpreter: -fno-gcse is GCC's advice for computed-goto dispatch (keeps
# one indirect jump per handler); no memset/memcpy calls for the few slots a
# call clears or a branch moves.
$(BUILD)/src/wasm/interp.o: CFLAGS += -fno-gcse -fno-tree-loop-distribute-patterns
