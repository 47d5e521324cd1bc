/*
 * obs_off.c - the observability calls the provider layer makes, for the
 * embeddable client (libsluice): an in-process client keeps no metrics, so
 * they do nothing here. Linking the gateway's src/obs/ instead would drag
 * SQLite (its request log store) into every program using the library.
 */
#include "obs/obs.h"

void obs_upstream_error(const char *provider, const char *kind)
{
    (void)provider;
    (void)kind;
}

void obs_retry(const char *provider)
{
    (void)provider;
}

/* Only ever passed to obs_upstream_error above. */
const char *obs_status_kind(int status)
{
    (void)status;
    return "";
}
