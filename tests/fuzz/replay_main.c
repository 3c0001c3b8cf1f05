/* replay_main.c: runs a fuzz target over its seed corpus so the ordinary test run checks every
 * corpus file (a crash or sanitizer report fails the test). Arguments are directories or files;
 * directory entries are replayed in sorted order so failures are reproducible. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/banned.h"

#define REPLAY_FILE_MAX (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *data = xmalloc(cap);
	size_t got;
	while ((got = fread(data + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			if (cap >= REPLAY_FILE_MAX) {
				fprintf(stderr, "replay: %s is larger than %d bytes\n", path,
				        REPLAY_FILE_MAX);
				free(data);
				fclose(f);
				return -1;
			}
			cap *= 2;
			data = xrealloc(data, cap);
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(data);
		return -1;
	}
	/* An exact-size copy lets AddressSanitizer catch reads past the input. */
	uint8_t *exact = xmalloc(len ? len : 1);
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file directly in dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: cannot open directory %s\n", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	long count = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (count >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i]) != 0)
				count = -1;
			else
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;
	static const uint8_t empty[1];

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 1;
	}
	LLVMFuzzerTestOneInput(empty, 0);
	total++;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s does not exist\n", argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			long n = replay_dir(argv[i]);
			if (n < 0)
				return 1;
			total += n;
		} else {
			if (replay_file(argv[i]) != 0)
				return 1;
			total++;
		}
	}
	printf("replayed %ld inputs\n", total);
	return 0;
}
