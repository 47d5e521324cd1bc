# Observability (src/obs): the sharded metrics registry and Prometheus text
# output, the gateway's metric set, structured JSON logs and the SQLite request
# log store. Everything links from libsluice_obs.a (needs -lsqlite3).
OBS_SRCS := $(wildcard src/obs/*.c)
OBS_OBJS := $(OBS_SRCS:%.c=$(BUILD)/%.o)
OBS_LDLIBS := -lsqlite3 -lm
LIBS += $(BUILD)/libsluice_obs.a

$(BUILD)/libsluice_obs.a: $(OBS_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
