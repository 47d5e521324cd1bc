/*
 * anthropic_api.h - the drop-in Anthropic endpoint, POST /anthropic/v1/messages:
 * Anthropic Messages clients (the official SDKs with base_url pointed at
 * {gateway}/anthropic) reach any configured provider. Prefix: gw_ant_.
 */
#ifndef SLUICE_CORE_ANTHROPIC_API_H
#define SLUICE_CORE_ANTHROPIC_API_H

#include "http/server.h"

#define GW_ANT_PATH "/anthropic/v1/messages"
#define GW_ANT_ENDPOINT "anthropic_messages" /* srv_request.endpoint (metrics label) */

/* POST /anthropic/v1/messages */
void gw_ant_messages(srv_request *sr);

#endif /* SLUICE_CORE_ANTHROPIC_API_H */
