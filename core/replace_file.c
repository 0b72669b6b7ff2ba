/* core/replace_file.c - replacing a file atomically, as every save does:
 * the new contents go to a temporary file in the same folder, are flushed
 * to disk, then renamed over the old file, so that a crash leaves either
 * the old file or the new one. Around that, what a user of torch.save
 * expects of a save:
 * - a symbolic link at the path is followed (torch.save writes through it):
 *   its final target is replaced (created when missing), the link stays;
 * - the new file gets the old one's permission bits, or, for a new file,
 *   0666 less the umask, as fopen would give it;
 * - the temporary file is named "<name>.tmp.<pid>.<6 characters>", the
 *   name cut short when needed so that it fits the file system's limit
 *   (any name the file system takes can be saved to); those that a killed
 *   save left behind (their process is gone) are removed by the next save
 *   to the same path. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Symbolic links followed before giving up, as Linux's own limit. */
#define MAX_LINKS 40
/* ".tmp." + a pid of at most 10 digits + "." + the random part */
#define RANDOM_CHARS 6
#define SUFFIX_MAX (5 + 10 + 1 + RANDOM_CHARS)

int tg__write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t done = write(fd, p, n);
        if (done < 0 && errno == EINTR) continue;
        if (done < 0) return errno;
        p += done, n -= (size_t)done;
    }
    return 0;
}

/* The folder part of path ("." when there is none) and the name part, in
 * new strings; false when out of memory. */
static bool split(const char *path, char **dir, char **name) {
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + (slash == path) : 1;
    *dir = malloc(dir_len + 1);
    *name = strdup(slash ? slash + 1 : path);
    if (!*dir || !*name) {
        free(*dir), free(*name);
        *dir = *name = NULL;
        return false;
    }
    memcpy(*dir, slash ? path : ".", dir_len);
    (*dir)[dir_len] = '\0';
    return true;
}

/* The target of the symbolic link at link (st from its lstat), relative to
 * the link's folder: a new string, or NULL with *err set. */
static char *link_target(const char *link, const struct stat *st, int *err) {
    /* st_size is 0 for some links (in /proc): then PATH_MAX, which no
     * usable target exceeds */
    size_t cap = (size_t)st->st_size + 1 > PATH_MAX ? (size_t)st->st_size + 1 : PATH_MAX;
    char *target = malloc(cap), *dir = NULL, *name = NULL, *joined = NULL;
    ssize_t len = target ? readlink(link, target, cap) : -1;
    *err = !target ? ENOMEM : len < 0 ? errno : (size_t)len >= cap ? ENAMETOOLONG : 0;
    if (*err) {
        free(target);
        return NULL;
    }
    target[len] = '\0';
    if (target[0] == '/') return target;
    if (split(link, &dir, &name) && (joined = malloc(strlen(dir) + (size_t)len + 2)))
        sprintf(joined, "%s/%s", dir, target);
    else
        *err = ENOMEM;
    free(target), free(dir), free(name);
    return joined;
}

/* The path a save to path writes: path itself, or the final target of the
 * symbolic links there (which need not exist yet). A new string, or NULL
 * with *err set. */
static char *resolve_links(const char *path, int *err) {
    char *cur = strdup(path);
    *err = cur ? 0 : ENOMEM;
    for (int hops = 0; cur; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) return cur; /* open reports errors */
        char *next = hops < MAX_LINKS ? link_target(cur, &st, err) : NULL;
        if (hops == MAX_LINKS) *err = ELOOP;
        free(cur);
        cur = next;
    }
    return NULL;
}

/* How many bytes of name the temporary name keeps: all of it when that
 * fits the folder's name limit, otherwise as many as fit, not cutting a
 * UTF-8 character in two. */
static size_t kept_length(const char *dir, const char *name) {
    long limit = pathconf(dir, _PC_NAME_MAX);
    if (limit < 0) limit = 255; /* no limit known: the usual one */
    size_t room = limit > SUFFIX_MAX ? (size_t)limit - SUFFIX_MAX : 0;
    size_t n = strlen(name);
    if (n <= room) return n;
    while (room > 0 && ((unsigned char)name[room] & 0xc0) == 0x80) room--;
    return room;
}

static const char random_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* True when entry is "<prefix>.tmp.<pid>.<6 characters>" of a process
 * that no longer runs: a save that was killed. */
static bool is_stale_temporary(const char *entry, const char *prefix, size_t prefix_len) {
    if (strncmp(entry, prefix, prefix_len) != 0 || strncmp(entry + prefix_len, ".tmp.", 5) != 0)
        return false;
    const char *p = entry + prefix_len + 5;
    long pid = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++) pid = pid * 10 + (*p - '0');
    if (digits == 0 || pid > 0x7fffffff || *p != '.' || strlen(p + 1) != RANDOM_CHARS ||
        strspn(p + 1, random_alphabet) != RANDOM_CHARS)
        return false;
    return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes what killed saves to dir/name left; failures change nothing
 * for this save, so they are ignored. */
static void remove_stale_temporaries(const char *dir, const char *prefix, size_t prefix_len) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));)
        if (is_stale_temporary(e->d_name, prefix, prefix_len)) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

/* Six characters no other save of this process drew, and unlikely for
 * another process (its pid is in the name too). */
static void random_part(char *out) {
    static _Atomic uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 (atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15u);
    x ^= x >> 31, x *= 0xbf58476d1ce4e5b9u, x ^= x >> 27; /* splitmix64's mixing */
    for (int i = 0; i < RANDOM_CHARS; i++, x /= 36) out[i] = random_alphabet[x % 36];
    out[RANDOM_CHARS] = '\0';
}

/* Opens a new temporary file dir/prefix.tmp.<pid>.<random>, its name in
 * tmp (room for the longest); -1 with errno set on failure. */
static int open_temporary(const char *dir, const char *prefix, size_t prefix_len, char *tmp) {
    for (int attempt = 0; attempt < 100; attempt++) {
        char random[RANDOM_CHARS + 1];
        random_part(random);
        sprintf(tmp, "%s/%.*s.tmp.%ld.%s", dir, (int)prefix_len, prefix, (long)getpid(), random);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* Makes the rename durable; a folder that cannot be synced is no error
 * (some file systems refuse it), the data itself was. */
static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Writes dir/name through a temporary file; 0, an errno value, or -1
 * with the error recorded (by writer). */
static int replace(const char *target, const char *dir, const char *name, char *tmp,
                   tg__file_writer writer, void *ctx) {
    if (!*name) return EISDIR; /* the path ends in a slash */
    size_t kept = kept_length(dir, name);
    struct stat old;
    bool existed = stat(target, &old) == 0;
    remove_stale_temporaries(dir, name, kept);
    int fd = open_temporary(dir, name, kept, tmp);
    if (fd < 0) return errno;
    int err = existed && fchmod(fd, old.st_mode & 07777) != 0 ? errno : 0;
    if (!err) err = writer(fd, ctx);
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, target) != 0) err = errno;
    if (err)
        unlink(tmp);
    else
        sync_dir(dir);
    return err;
}

int tg__replace_file(const char *op, const char *path, tg__file_writer writer, void *ctx) {
    int err;
    char *target = resolve_links(path, &err), *dir = NULL, *name = NULL, *tmp = NULL;
    if (target && split(target, &dir, &name))
        tmp = malloc(strlen(dir) + strlen(name) + SUFFIX_MAX + 2);
    if (target && !tmp) err = ENOMEM;
    if (!err) err = replace(target, dir, name, tmp, writer, ctx);
    if (err == ENOMEM)
        tg__error(TG_ERR_NOMEM, "%s: out of memory", op);
    else if (err > 0)
        tg__error(TG_ERR_IO, "%s: cannot write %s: %s", op, path, strerror(err));
    free(tmp), free(dir), free(name), free(target);
    return err ? -1 : 0;
}
