/* crypto.c: thin wrappers over libsodium so the rest of Calendox never picks parameters. */
#include "base/crypto.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/banned.h"

#define SEAL_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(SEC_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "password hash buffer too small");
_Static_assert(SEC_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

enum cx_err sec_init(void)
{
	return sodium_init() < 0 ? CX_ECRYPTO : CX_OK;
}

void sec_random_bytes(void *out, size_t n)
{
	randombytes_buf(out, n);
}

uint32_t sec_random_uniform(uint32_t upper)
{
	return upper ? randombytes_uniform(upper) : 0;
}

static char *encode(const void *data, size_t len, int variant)
{
	size_t n = sodium_base64_encoded_len(len, variant);
	char *out = xmalloc(n);
	sodium_bin2base64(out, n, data, len, variant);
	return out;
}

void sec_random_token(char *out, size_t out_size, size_t nbytes)
{
	uint8_t *raw = xmalloc(nbytes ? nbytes : 1);
	randombytes_buf(raw, nbytes);
	size_t need = sodium_base64_encoded_len(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	/* A buffer too small for the token is a programming error: an empty token must never
	 * leave here as if it were random. */
	if (out_size < need)
		abort();
	sodium_bin2base64(out, out_size, raw, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, nbytes);
	free(raw);
}

char *sec_random_token_new(size_t nbytes)
{
	size_t need = sodium_base64_encoded_len(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(need);
	sec_random_token(out, need, nbytes);
	return out;
}

enum cx_err sec_seal(const uint8_t key[SEC_KEY_BYTES], const void *plain, size_t plain_len,
                     const void *ad, size_t ad_len, char **out)
{
	size_t box_len = SEAL_NONCE_BYTES + plain_len + SEAL_TAG_BYTES;
	uint8_t *box = xmalloc(box_len);
	unsigned long long clen = 0;

	randombytes_buf(box, SEAL_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + SEAL_NONCE_BYTES, &clen, plain, plain_len,
	                                           ad, ad_len, NULL, box, key);
	*out =
	    encode(box, SEAL_NONCE_BYTES + (size_t)clen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(box);
	return CX_OK;
}

static enum cx_err decode(const char *s, int variant, uint8_t **out, size_t *out_len)
{
	size_t slen = strlen(s);
	size_t cap = slen / 4 * 3 + 3;
	uint8_t *bin = xmalloc(cap + 1);
	size_t len = 0;
	const char *end = NULL;

	if (sodium_base642bin(bin, cap, s, slen, NULL, &len, &end, variant) != 0 ||
	    end != s + slen) {
		free(bin);
		return CX_EINVAL;
	}
	bin[len] = '\0';
	*out = bin;
	if (out_len)
		*out_len = len;
	return CX_OK;
}

enum cx_err sec_open(const uint8_t key[SEC_KEY_BYTES], const char *sealed, const void *ad,
                     size_t ad_len, char **plain, size_t *plain_len)
{
	enum cx_err rc = CX_OK;
	uint8_t *box = NULL;
	size_t box_len = 0;
	char *msg = NULL;
	unsigned long long mlen = 0;

	*plain = NULL;
	if (!sealed ||
	    decode(sealed, sodium_base64_VARIANT_URLSAFE_NO_PADDING, &box, &box_len) != CX_OK) {
		rc = CX_ECRYPTO;
		goto out;
	}
	if (box_len < SEAL_NONCE_BYTES + SEAL_TAG_BYTES) {
		rc = CX_ECRYPTO;
		goto out;
	}
	msg = xmalloc(box_len - SEAL_NONCE_BYTES - SEAL_TAG_BYTES + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	        (unsigned char *)msg, &mlen, NULL, box + SEAL_NONCE_BYTES,
	        box_len - SEAL_NONCE_BYTES, ad, ad_len, box, key) != 0) {
		rc = CX_ECRYPTO;
		goto out;
	}
	msg[mlen] = '\0';
	*plain = msg;
	msg = NULL;
	if (plain_len)
		*plain_len = (size_t)mlen;
out:
	free(msg);
	free(box);
	return rc;
}

/* Tests hash many passwords; the minimum limits keep them fast and still exercise Argon2id. */
static void pwhash_limits(unsigned long long *ops, size_t *mem)
{
	const char *fast = getenv("CALENDOX_PWHASH_FAST");
	if (fast && strcmp(fast, "1") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
}

enum cx_err sec_password_hash(const char *password, char out[SEC_PASSWORD_HASH_MAX])
{
	unsigned long long ops;
	size_t mem;
	pwhash_limits(&ops, &mem);
	if (crypto_pwhash_str(out, password, strlen(password), ops, mem) != 0)
		return CX_ECRYPTO;
	return CX_OK;
}

bool sec_password_verify(const char *hash, const char *password)
{
	if (!hash || !password)
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static void to_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[bin[i] >> 4];
		out[2 * i + 1] = hex[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

void sec_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                         char out[65])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, msg, msg_len);
	crypto_auth_hmacsha256_final(&st, mac);
	to_hex(mac, sizeof(mac), out);
	sodium_memzero(&st, sizeof(st));
}

void sec_sha256(const void *msg, size_t len, uint8_t out[32])
{
	crypto_hash_sha256(out, msg, len);
}

void sec_sha256_hex(const void *msg, size_t len, char out[65])
{
	uint8_t digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, msg, len);
	to_hex(digest, sizeof(digest), out);
}

bool sec_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
	if (a_len != b_len)
		return false;
	if (a_len == 0)
		return true;
	return sodium_memcmp(a, b, a_len) == 0;
}

bool sec_str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	return sec_equal(a, strlen(a), b, strlen(b));
}

void sec_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

char *sec_base64_encode(const void *data, size_t len)
{
	return encode(data, len, sodium_base64_VARIANT_ORIGINAL);
}

char *sec_base64url_encode(const void *data, size_t len)
{
	return encode(data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

enum cx_err sec_base64_decode(const char *s, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	return s ? decode(s, sodium_base64_VARIANT_ORIGINAL, out, out_len) : CX_EINVAL;
}

enum cx_err sec_base64url_decode(const char *s, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	return s ? decode(s, sodium_base64_VARIANT_URLSAFE_NO_PADDING, out, out_len) : CX_EINVAL;
}
