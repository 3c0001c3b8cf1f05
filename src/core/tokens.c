/* tokens.c: provider tokens sealed at rest (DESIGN §3). */
#include "core/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"

#include "base/banned.h"

static char *token_ad(const char *kind, int64_t id)
{
	return xasprintf("%s:%lld", kind, (long long)id);
}

enum cx_err tokens_seal(const uint8_t key[SEC_KEY_BYTES], const char *kind, int64_t id, const char *access_token,
			    const char *refresh_token, char **out)
{
	json_t *j = json_pack("{s:s, s:s?}", "access_token", access_token, "refresh_token",
			      refresh_token);
	if (!j)
		return CX_EINVAL;
	char *plain = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char *ad = token_ad(kind, id);
	enum cx_err e = sec_seal(key, plain, strlen(plain), ad, strlen(ad), out);
	sec_wipe(plain, strlen(plain));
	free(plain);
	free(ad);
	return e;
}

enum cx_err tokens_open(const uint8_t key[SEC_KEY_BYTES], const char *kind, int64_t id, const char *sealed,
			    char **access_token, char **refresh_token)
{
	char *ad = token_ad(kind, id);
	char *plain = NULL;
	size_t len = 0;
	*access_token = NULL;
	if (refresh_token)
		*refresh_token = NULL;
	enum cx_err e = sec_open(key, sealed, ad, strlen(ad), &plain, &len);
	free(ad);
	if (e)
		return e;
	json_t *j = json_loadb(plain, len, 0, NULL);
	sec_wipe(plain, len);
	free(plain);
	const char *at = j ? json_get_str(j, "access_token") : NULL;
	if (!at) {
		json_decref(j);
		return CX_ECRYPTO;
	}
	*access_token = xstrdup(at);
	const char *rt = json_get_str(j, "refresh_token");
	if (refresh_token && rt)
		*refresh_token = xstrdup(rt);
	json_decref(j);
	return CX_OK;
}
