/* Tests for base/crypto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/banned.h"

static int init(void **state)
{
	(void)state;
	return sec_init() == CX_OK ? 0 : -1;
}

static void test_hmac_rfc4231_case2(void **state)
{
	(void)state;
	char hex[65];
	const char *msg = "what do ya want for nothing?";
	sec_hmac_sha256_hex("Jefe", 4, msg, strlen(msg), hex);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[65];
	sec_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sec_sha256_hex("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	uint8_t raw[32];
	sec_sha256("abc", 3, raw);
	assert_int_equal(raw[0], 0xba);
	assert_int_equal(raw[31], 0xad);
}

static void test_seal_open_round_trip(void **state)
{
	(void)state;
	uint8_t key[SEC_KEY_BYTES];
	sec_random_bytes(key, sizeof(key));
	const char *token = "ya29.refresh-token-value";
	char *sealed = NULL;
	assert_int_equal(sec_seal(key, token, strlen(token), "user:1", 6, &sealed), CX_OK);
	assert_null(strstr(sealed, "refresh"));
	assert_int_equal(strspn(sealed, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                "0123456789-_"),
	                 strlen(sealed));
	char *plain = NULL;
	size_t len = 0;
	assert_int_equal(sec_open(key, sealed, "user:1", 6, &plain, &len), CX_OK);
	assert_int_equal(len, strlen(token));
	assert_string_equal(plain, token);
	free(plain);

	/* two seals of the same text differ (random nonce) */
	char *again = NULL;
	assert_int_equal(sec_seal(key, token, strlen(token), "user:1", 6, &again), CX_OK);
	assert_string_not_equal(sealed, again);
	free(again);

	/* empty plaintext */
	char *empty = NULL;
	assert_int_equal(sec_seal(key, "", 0, NULL, 0, &empty), CX_OK);
	assert_int_equal(sec_open(key, empty, NULL, 0, &plain, &len), CX_OK);
	assert_int_equal(len, 0);
	assert_string_equal(plain, "");
	free(plain);
	free(empty);
	free(sealed);
}

static void test_open_rejects_tampering(void **state)
{
	(void)state;
	uint8_t key[SEC_KEY_BYTES];
	sec_random_bytes(key, sizeof(key));
	char *sealed = NULL;
	assert_int_equal(sec_seal(key, "secret", 6, "ad", 2, &sealed), CX_OK);
	char *plain = (char *)1;
	size_t len;

	char *tampered = strdup(sealed);
	size_t mid = strlen(tampered) / 2;
	tampered[mid] = tampered[mid] == 'A' ? 'B' : 'A';
	assert_int_equal(sec_open(key, tampered, "ad", 2, &plain, &len), CX_ECRYPTO);
	assert_null(plain);
	free(tampered);

	assert_int_equal(sec_open(key, sealed, "AD", 2, &plain, &len), CX_ECRYPTO);
	assert_int_equal(sec_open(key, sealed, NULL, 0, &plain, &len), CX_ECRYPTO);

	uint8_t other[SEC_KEY_BYTES];
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(sec_open(other, sealed, "ad", 2, &plain, &len), CX_ECRYPTO);

	char *truncated = strndup(sealed, 20);
	assert_int_equal(sec_open(key, truncated, "ad", 2, &plain, &len), CX_ECRYPTO);
	free(truncated);
	assert_int_equal(sec_open(key, "not base64!", "ad", 2, &plain, &len), CX_ECRYPTO);
	assert_int_equal(sec_open(key, "", "ad", 2, &plain, &len), CX_ECRYPTO);
	assert_int_equal(sec_open(key, NULL, "ad", 2, &plain, &len), CX_ECRYPTO);
	free(sealed);
}

static void test_password_hash(void **state)
{
	(void)state;
	char hash[SEC_PASSWORD_HASH_MAX];
	assert_int_equal(sec_password_hash("correct horse", hash), CX_OK);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_true(sec_password_verify(hash, "correct horse"));
	assert_false(sec_password_verify(hash, "correct horsf"));
	assert_false(sec_password_verify(hash, ""));
	assert_false(sec_password_verify("garbage", "correct horse"));
	assert_false(sec_password_verify(NULL, "x"));
	char hash2[SEC_PASSWORD_HASH_MAX];
	assert_int_equal(sec_password_hash("correct horse", hash2), CX_OK);
	assert_string_not_equal(hash, hash2);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(sec_equal("abc", 3, "abc", 3));
	assert_false(sec_equal("abc", 3, "abd", 3));
	assert_false(sec_equal("abc", 3, "abcd", 4));
	assert_true(sec_equal("", 0, "", 0));
	assert_true(sec_str_equal("token", "token"));
	assert_false(sec_str_equal("token", "token2"));
	assert_false(sec_str_equal("token", NULL));
}

static void test_base64(void **state)
{
	(void)state;
	const uint8_t bytes[] = {0xfb, 0xff, 0xfe, 0x00, 0x41};
	char *std = sec_base64_encode(bytes, sizeof(bytes));
	assert_string_equal(std, "+//+AEE=");
	char *url = sec_base64url_encode(bytes, sizeof(bytes));
	assert_string_equal(url, "-__-AEE");
	uint8_t *out = NULL;
	size_t len = 0;
	assert_int_equal(sec_base64_decode(std, &out, &len), CX_OK);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	assert_int_equal(out[len], 0);
	free(out);
	assert_int_equal(sec_base64url_decode(url, &out, &len), CX_OK);
	assert_memory_equal(out, bytes, sizeof(bytes));
	free(out);
	assert_int_equal(sec_base64_decode(url, &out, &len), CX_EINVAL);
	assert_null(out);
	assert_int_equal(sec_base64url_decode(std, &out, &len), CX_EINVAL);
	assert_int_equal(sec_base64_decode("+//+AEE", &out, &len), CX_EINVAL); /* no padding */
	assert_int_equal(sec_base64_decode("+//+AEE=x", &out, &len), CX_EINVAL);
	assert_int_equal(sec_base64_decode(NULL, &out, &len), CX_EINVAL);
	assert_int_equal(sec_base64_decode("", &out, &len), CX_OK);
	assert_int_equal(len, 0);
	free(out);
	free(std);
	free(url);
}

static void test_random(void **state)
{
	(void)state;
	char a[64], b[64];
	sec_random_token(a, sizeof(a), 32);
	sec_random_token(b, sizeof(b), 32);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	uint8_t *raw = NULL;
	size_t len = 0;
	assert_int_equal(sec_base64url_decode(a, &raw, &len), CX_OK);
	assert_int_equal(len, 32);
	free(raw);
	char *t = sec_random_token_new(16);
	assert_int_equal(strlen(t), 22);
	free(t);
	for (int i = 0; i < 1000; i++)
		assert_true(sec_random_uniform(7) < 7);
	assert_int_equal(sec_random_uniform(1), 0);
	uint8_t buf[32] = {0};
	sec_random_bytes(buf, sizeof(buf));
	uint8_t zero[32] = {0};
	assert_memory_not_equal(buf, zero, sizeof(buf));
	sec_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hmac_rfc4231_case2),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_seal_open_round_trip),
	    cmocka_unit_test(test_open_rejects_tampering),
	    cmocka_unit_test(test_password_hash),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, init, NULL);
}
