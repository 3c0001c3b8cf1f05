/* crypto.h: the few primitives Calendox needs, on libsodium (STYLE §8).
 * Names carry the prefix sec_ (libsodium owns crypto_*). sec_init() must run once at start-up
 * before any thread uses the rest; afterwards everything here is thread-safe. */
#ifndef CX_BASE_CRYPTO_H
#define CX_BASE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SEC_KEY_BYTES 32
#define SEC_PASSWORD_HASH_MAX 128 /* >= crypto_pwhash_STRBYTES */

enum cx_err sec_init(void);

/* nbytes random bytes as unpadded base64url; out must hold 4*nbytes/3+2. */
void sec_random_token(char *out, size_t out_size, size_t nbytes);
/* Caller frees with free(). */
char *sec_random_token_new(size_t nbytes);
void sec_random_bytes(void *out, size_t n);
/* Uniform in [0, upper). */
uint32_t sec_random_uniform(uint32_t upper);

/* XChaCha20-Poly1305 with associated data. The result is base64url(nonce || ciphertext || tag).
 * Caller frees *out with free(). */
enum cx_err sec_seal(const uint8_t key[SEC_KEY_BYTES], const void *plain, size_t plain_len,
		     const void *ad, size_t ad_len, char **out);
/* CX_ECRYPTO if the box was tampered with, the key or ad differ, or it is not base64url.
 * *plain is NUL-terminated; caller frees with free() (sodium_memzero first if it was a secret). */
enum cx_err sec_open(const uint8_t key[SEC_KEY_BYTES], const char *sealed, const void *ad,
		     size_t ad_len, char **plain, size_t *plain_len);

/* Argon2id (crypto_pwhash_str, interactive limits unless CALENDOX_PWHASH_FAST=1 in tests). */
enum cx_err sec_password_hash(const char *password, char out[SEC_PASSWORD_HASH_MAX]);
bool sec_password_verify(const char *hash, const char *password);

/* Lower-case hex; out must hold 65 bytes. */
void sec_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			 char out[65]);
void sec_sha256_hex(const void *msg, size_t len, char out[65]);
/* Raw SHA-256 (PKCE S256 challenge). */
void sec_sha256(const void *msg, size_t len, uint8_t out[32]);

/* Constant time for equal lengths; different lengths are simply unequal. */
bool sec_equal(const void *a, size_t a_len, const void *b, size_t b_len);
bool sec_str_equal(const char *a, const char *b);
/* Overwrites n bytes with zeros in a way the compiler cannot drop (for secrets before free()). */
void sec_wipe(void *p, size_t n);

/* Base64 helpers (libsodium variants). Encoders return a new string (caller frees with free()).
 * Decoders: CX_EINVAL on bad input; *out caller frees with free() and is NUL-terminated. */
char *sec_base64_encode(const void *data, size_t len);     /* standard, padded */
char *sec_base64url_encode(const void *data, size_t len);  /* url-safe, unpadded */
enum cx_err sec_base64_decode(const char *s, uint8_t **out, size_t *out_len); /* standard, padded */
enum cx_err sec_base64url_decode(const char *s, uint8_t **out, size_t *out_len);

#endif
