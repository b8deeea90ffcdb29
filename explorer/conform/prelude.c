/* mm-explorer conformance runtime: set up a world (a memfd and the VMAs of one process, one
 * userfaultfd), perform the model's steps, read what a process can observe (pagemap, pread),
 * print TAP in the style of tools/testing/selftests/mm. Every case runs in a forked child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_MINOR_SHMEM
#define UFFD_FEATURE_MINOR_SHMEM (1 << 10)
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFDIO_REGISTER_MODE_MINOR
#define UFFDIO_REGISTER_MODE_MINOR ((__u64)1 << 2)
#endif

#define MAXV 8
#pragma GCC diagnostic ignored "-Wunused-function"
#define TAG_FILE 'W'        /* write(2) by an authorized writer */
#define TAG_SHARED 'S'      /* a store through a shared mapping */
#define TAG_PRIVATE 'P'     /* a store (or GUP write) through a private mapping */
#define TAG_COPY 'C'        /* UFFDIO_COPY source */

static long pg;
static int nv, np;
static int fd_rw = -1, fd_map = -1, uffd = -1;
static char *vbase[MAXV];
static int vshared[MAXV];
static int step_no, checks_failed;
static const char *step_name = "setup";
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t in_access, fault_sig;
static volatile int quiet;        /* racing steps repeat silently */
static char copy_src[1 << 16];

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;
	printf("    %s %d - ", ok ? "ok" : "not ok", step_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void note(const char *fmt, ...)
{
	va_list ap;
	printf("    # ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void die_setup(const char *what)
{
	printf("    # setup %s failed: %s\n", what, strerror(errno));
	printf("    not ok %d - setup\n", step_no);
	fflush(stdout);
	_exit(4);
}

static void on_fault(int sig)
{
	if (in_access) {
		fault_sig = sig;
		siglongjmp(fault_jmp, 1);
	}
	_exit(5);
}

static char *addr(int v, int p) { return vbase[v] + (long)p * pg; }

/* ---- the userfault handler: an access that blocks is an observation, and ends the case ---- */
static void *uffd_thread(void *arg)
{
	struct uffd_msg msg;
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	(void)arg;
	for (;;) {
		if (poll(&pfd, 1, -1) <= 0)
			continue;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		const char *kind = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP ? "wp" :
			msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR ? "minor" : "missing";
		printf("    # outcome step %d %s: blocked-userfault-%s%s\n", step_no, step_name, kind,
		       msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? " (write)" : "");
		tap(0, "%s", step_name);
		_exit(3);
	}
	return NULL;
}

static void world_file(int npages, int rdonly, int sealed, const int *cached)
{
	fd_rw = memfd_create("conform", MFD_ALLOW_SEALING);
	if (fd_rw < 0 || ftruncate(fd_rw, npages * pg))
		die_setup("memfd");
	for (int p = 0; p < npages; p++)
		if (cached[p]) {
			memset(copy_src, TAG_FILE, pg);
			if (pwrite(fd_rw, copy_src, pg, (off_t)p * pg) != pg)
				die_setup("populate");
		}
	if (sealed && fcntl(fd_rw, F_ADD_SEALS, F_SEAL_WRITE))
		die_setup("F_SEAL_WRITE");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd_rw);
	fd_map = open(path, rdonly ? O_RDONLY : O_RDWR);
	if (fd_map < 0)
		die_setup("reopen");
}

static int prot_of(int prot) { return prot == 0 ? PROT_NONE : prot == 1 ? PROT_READ : PROT_READ | PROT_WRITE; }

static void world_vma(int v, int anon, int shared, int prot)
{
	/* each VMA in its own reserved window with a hole after it, so VMAs never merge */
	char *want = (char *)(0x200000000000UL + (unsigned long)v * 0x10000000UL);
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE | (anon ? MAP_ANONYMOUS : 0);
	vbase[v] = mmap(want, np * pg, prot_of(prot), flags, anon ? -1 : fd_map, 0);
	if (vbase[v] == MAP_FAILED)
		die_setup("mmap");
	vshared[v] = shared;
	nv = v + 1 > nv ? v + 1 : nv;
}

static void world_uffd(int wp_unpopulated)
{
	struct uffdio_api api = { .api = UFFD_API };
	int probe = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (probe < 0 || ioctl(probe, UFFDIO_API, &api))
		die_setup("userfaultfd probe");
	close(probe);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	api.api = UFFD_API;
	api.features &= UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_MISSING_SHMEM |
			(wp_unpopulated ? UFFD_FEATURE_WP_UNPOPULATED : 0);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die_setup("UFFDIO_API");
	pthread_t t;
	pthread_create(&t, NULL, uffd_thread, NULL);
}

static void world_register(int v, int missing, int wp, int minor)
{
	struct uffdio_register r = { .range = { (unsigned long)vbase[v], np * pg } };
	r.mode = (missing ? UFFDIO_REGISTER_MODE_MISSING : 0) | (wp ? UFFDIO_REGISTER_MODE_WP : 0) |
		 (minor ? UFFDIO_REGISTER_MODE_MINOR : 0);
	if (ioctl(uffd, UFFDIO_REGISTER, &r))
		die_setup("UFFDIO_REGISTER");
}

static void world_ready(void)
{
	struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- steps: each returns 1 when it completed ("done" / returns 0) ---- */
static void begin(const char *name) { step_no++; step_name = name; }

static int outcome(int done, const char *what)
{
	if (!done && !quiet)
		note("outcome step %d %s: %s", step_no, step_name, what);
	return done;
}

static int access_page(int v, int p, int write)
{
	volatile char *a = (volatile char *)addr(v, p);
	fault_sig = 0;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		in_access = 1;
		if (write)
			*a = vshared[v] ? TAG_SHARED : TAG_PRIVATE;
		else
			(void)*a;
		in_access = 0;
		return 1;
	}
	in_access = 0;
	return outcome(0, fault_sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
}

static int errno_outcome(int ret)
{
	char buf[64];
	if (ret == 0)
		return 1;
	snprintf(buf, sizeof(buf), "errno %s", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return outcome(0, buf);
}

static int do_madvise(int v, int p, int advice) { return errno_outcome(madvise(addr(v, p), pg, advice)); }
static int do_mprotect(int v, int prot) { return errno_outcome(mprotect(vbase[v], np * pg, prot_of(prot))); }

static int do_clear_refs(void)
{
	int f = open("/proc/self/clear_refs", O_WRONLY);
	int ok = f >= 0 && write(f, "4", 1) == 1;
	if (f >= 0)
		close(f);
	return errno_outcome(ok ? 0 : -1);
}

static int do_file_write(int p)
{
	memset(copy_src, TAG_FILE, pg);
	return errno_outcome(pwrite(fd_rw, copy_src, pg, (off_t)p * pg) == pg ? 0 : -1);
}

static int do_writeprotect(int v, int p, int on)
{
	struct uffdio_writeprotect w = { .range = { (unsigned long)addr(v, p), pg },
					 .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	return errno_outcome(ioctl(uffd, UFFDIO_WRITEPROTECT, &w));
}

static int do_continue(int v, int p)
{
	struct uffdio_continue c = { .range = { (unsigned long)addr(v, p), pg } };
	return errno_outcome(ioctl(uffd, UFFDIO_CONTINUE, &c));
}

static int do_copy(int v, int p, int wp)
{
	memset(copy_src, TAG_COPY, pg);
	struct uffdio_copy c = { .dst = (unsigned long)addr(v, p), .src = (unsigned long)copy_src,
				 .len = pg, .mode = wp ? UFFDIO_COPY_MODE_WP : 0 };
	return errno_outcome(ioctl(uffd, UFFDIO_COPY, &c));
}

static int do_zeropage(int v, int p)
{
	struct uffdio_zeropage z = { .range = { (unsigned long)addr(v, p), pg } };
	return errno_outcome(ioctl(uffd, UFFDIO_ZEROPAGE, &z));
}

/* a FOLL_WRITE|FOLL_FORCE GUP: a write to our own /proc/self/mem */
static int gup_write(int v, int p)
{
	static int memfd = -1;
	char b = vshared[v] ? TAG_SHARED : TAG_PRIVATE;
	if (memfd < 0)
		memfd = open("/proc/self/mem", O_RDWR);
	return pwrite(memfd, &b, 1, (off_t)(unsigned long)addr(v, p)) == 1;
}

/* ---- observations ---- */
static uint64_t pagemap(int v, int p)
{
	static int f = -1;
	uint64_t e = 0;
	if (f < 0)
		f = open("/proc/self/pagemap", O_RDONLY);
	if (pread(f, &e, 8, (off_t)((unsigned long)addr(v, p) / pg) * 8) != 8)
		return ~0ULL;
	return e;
}

static int pagemap_bit(int v, int p, int bit) { return (int)((pagemap(v, p) >> bit) & 1); }

static int file_private(int p)
{
	char b = 0;
	if (pread(fd_rw, &b, 1, (off_t)p * pg) != 1)
		return 0;
	return b == TAG_PRIVATE;
}

static int check(const char *obs, int predicted, int observed)
{
	if (predicted == observed)
		return 1;
	note("obs step %d %s predicted %d observed %d", step_no, obs, predicted, observed);
	return 0;
}

static void end_step(int ok)
{
	if (!ok)
		checks_failed++;
	tap(ok, "%s", step_name);
}

static int finish(void) { return checks_failed ? 1 : 0; }

/* ---- the batch driver: each case in a forked child, with a timeout ---- */
typedef int (*case_fn)(void);

static int run_case(int n, const char *name, case_fn fn, int timeout_s)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pg = sysconf(_SC_PAGESIZE);
		alarm(timeout_s);
		printf("    # case %s\n", name);
		_exit(fn());
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (WIFSIGNALED(st))
		printf("    # case %s ended by signal %d\n", name, WTERMSIG(st));
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n, name);
	fflush(stdout);
	return ok;
}
