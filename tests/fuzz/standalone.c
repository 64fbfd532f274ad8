/* Runs a libFuzzer target's LLVMFuzzerTestOneInput over files, without libFuzzer: this is how
 * the normal test suite (gcc, and gcc with ASan+UBSan) replays the regression inputs and the
 * seed corpus. Arguments are files or directories (every regular file inside, not recursive).
 * A missing directory counts as empty, so a target with no regression input yet still runs. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Upper bound for one input: the seeds are at most a few hundred KB. */
#define FUZZ_MAX_INPUT ((size_t)64 << 20)

/* The input being run, named on a crash (a failed check aborts). */
static const char *current;

static void on_crash(int sig)
{
    static const char pre[] = "fuzz-standalone: crashed on input ";
    if (current) {
        ssize_t w = write(2, pre, sizeof pre - 1);
        w += write(2, current, strlen(current));
        w += write(2, "\n", 1);
        (void)w;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz-standalone: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (size_t)st.st_size > FUZZ_MAX_INPUT) {
        fprintf(stderr, "fuzz-standalone: %s: cannot stat, or larger than %zu bytes\n", path,
                FUZZ_MAX_INPUT);
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    /* An exact-size heap copy, so ASan sees any read past the end of the input. */
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        fprintf(stderr, "fuzz-standalone: %s: out of memory\n", path);
        return -1;
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        fprintf(stderr, "fuzz-standalone: %s: short read\n", path);
        free(buf);
        return -1;
    }
    current = path;
    LLVMFuzzerTestOneInput(buf, n);
    current = NULL;
    free(buf);
    return 0;
}

static int run_dir(const char *dir, long *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        fprintf(stderr, "fuzz-standalone: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(l);
        if (!p) {
            bad = -1;
            break;
        }
        snprintf(p, l, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(p) != 0) bad = -1;
            ++*count;
        }
        free(p);
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    long count = 0;
    int bad = 0;
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(argv[i]) != 0) bad = 1;
            count++;
        } else if (run_dir(argv[i], &count) != 0) {
            bad = 1;
        }
    }
    printf("fuzz-standalone: %ld inputs ran without a crash or failed check\n", count);
    return bad;
}
