/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs a fuzz target's checks (the LLVMFuzzerTestOneInput() it is linked
 * with: one executable per target, tests/fuzz/meson.build) over files
 * without libFuzzer: each argument is a file, or a directory whose regular
 * files are all run. Built with gcc as a meson unit test over the target's
 * corpus, so a seed or a saved crash reproducer is checked on every build,
 * with or without clang (and under ASan in the sanitizer build).
 * Exits non-zero if a path cannot be read or no file was run; a broken
 * invariant aborts inside the target.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	data = malloc(size != 0 ? (size_t)size : 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto fail;
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	free(data);
	return 0;

fail:
	fprintf(stderr, "replay: cannot read %s\n", path);
	free(data);
	if (f != NULL)
		fclose(f);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned files = 0, errors = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such path %s\n", argv[i]);
			errors++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[i]) != 0;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		if (d == NULL) {
			errors++;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			errors += run_file(path) != 0;
			files++;
		}
		closedir(d);
	}
	printf("replay: %u files, %u unreadable\n", files, errors);
	return files == 0 || errors != 0 ? 1 : 0;
}
