/*
 * Time: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 * clock_nanosleep; and the process's times: times, getrusage.
 *
 * Times differ from run to run: only ranges and relations are printed
 * (monotonic never goes back, a sleep lasts at least what was asked, the
 * clocks agree with each other). clock_gettime is called as a system call:
 * natively musl would use the vDSO instead.
 */
#include "conformance.h"
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

#define K_RUSAGE_THREAD 1

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long mono(void)
{
	struct timespec t;
	S(clock_gettime, CLOCK_MONOTONIC, &t);
	return ns(&t);
}

static const char *clock_name(int c)
{
	switch (c) {
	case CLOCK_REALTIME: return "CLOCK_REALTIME";
	case CLOCK_MONOTONIC: return "CLOCK_MONOTONIC";
	case CLOCK_PROCESS_CPUTIME_ID: return "CLOCK_PROCESS_CPUTIME_ID";
	case CLOCK_THREAD_CPUTIME_ID: return "CLOCK_THREAD_CPUTIME_ID";
	case CLOCK_MONOTONIC_RAW: return "CLOCK_MONOTONIC_RAW";
	case CLOCK_REALTIME_COARSE: return "CLOCK_REALTIME_COARSE";
	case CLOCK_MONOTONIC_COARSE: return "CLOCK_MONOTONIC_COARSE";
	case CLOCK_BOOTTIME: return "CLOCK_BOOTTIME";
	case CLOCK_TAI: return "CLOCK_TAI";
	}
	return "?";
}

static void test_clock_gettime(void)
{
	static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
				      CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI };
	struct timespec t, u;

	say("-- clock_gettime");
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		t.tv_sec = -7;
		t.tv_nsec = -7;
		long r = S(clock_gettime, clocks[i], &t);
		if (r == -1)
			say("clock_gettime(%s) = -1 %s", clock_name(clocks[i]), errname(errno));
		else
			say("clock_gettime(%s) = %ld: tv_sec >= 0: %s, 0 <= tv_nsec < 1e9: %s", clock_name(clocks[i]), r,
			    yesno(t.tv_sec >= 0), yesno(t.tv_nsec >= 0 && t.tv_nsec < 1000000000));
	}
	S(clock_gettime, CLOCK_REALTIME, &t);
	say("CLOCK_REALTIME after 2020-01-01 and before 2100: %s", yesno(t.tv_sec > 1577836800 && t.tv_sec < 4102444800));
	S(clock_gettime, CLOCK_TAI, &u);
	say("CLOCK_TAI - CLOCK_REALTIME within [0, 100] s: %s", yesno(u.tv_sec - t.tv_sec >= 0 && u.tv_sec - t.tv_sec <= 100));
	S(clock_gettime, CLOCK_REALTIME_COARSE, &u);
	say("CLOCK_REALTIME_COARSE within 1 s of CLOCK_REALTIME: %s", yesno(llabs(ns(&u) - ns(&t)) < 1000000000LL));

	int back = 0;
	long long prev = mono();
	for (int i = 0; i < 1000; i++) {
		long long now = mono();
		if (now < prev)
			back++;
		prev = now;
	}
	say("CLOCK_MONOTONIC never goes back (1000 calls): %s", yesno(back == 0));
	struct timespec c, m, b;
	S(clock_gettime, CLOCK_MONOTONIC_COARSE, &c);
	S(clock_gettime, CLOCK_MONOTONIC, &m);
	S(clock_gettime, CLOCK_BOOTTIME, &b);
	say("CLOCK_MONOTONIC_COARSE <= CLOCK_MONOTONIC <= CLOCK_BOOTTIME: %s", yesno(ns(&c) <= ns(&m) && ns(&m) <= ns(&b)));

	struct timespec p0, p1;
	S(clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &p0);
	long long start = mono();
	volatile unsigned long spin = 0;
	while (mono() - start < 30000000LL)
		spin++;
	S(clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &p1);
	say("CLOCK_PROCESS_CPUTIME_ID grows over 30 ms of work: %s", yesno(ns(&p1) > ns(&p0)));
	S(clock_gettime, CLOCK_THREAD_CPUTIME_ID, &p1);
	say("CLOCK_THREAD_CPUTIME_ID > 0 after it: %s", yesno(ns(&p1) > 0));

	say("errors:");
	T(S(clock_gettime, 10, &t));
	T(S(clock_gettime, 100, &t));
	T(S(clock_gettime, 0x7fffffff, &t));
	T(S(clock_gettime, CLOCK_MONOTONIC, NULL));
}

static void test_clock_getres(void)
{
	static const int clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME };
	struct timespec t;

	say("-- clock_getres");
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		long r = S(clock_getres, clocks[i], &t);
		if (r == -1)
			say("clock_getres(%s) = -1 %s", clock_name(clocks[i]), errname(errno));
		else
			say("clock_getres(%s) = %ld: 0 < res <= 10 ms: %s", clock_name(clocks[i]), r,
			    yesno(t.tv_sec == 0 && t.tv_nsec > 0 && t.tv_nsec <= 10000000));
	}
	T(S(clock_getres, CLOCK_MONOTONIC, NULL));
	T(S(clock_getres, 100, &t));
}

static void test_gettimeofday(void)
{
	struct timeval tv;
	struct timezone tz;
	struct timespec t;

	say("-- gettimeofday");
	T(S(gettimeofday, &tv, NULL));
	S(clock_gettime, CLOCK_REALTIME, &t);
	say("0 <= tv_usec < 1e6: %s", yesno(tv.tv_usec >= 0 && tv.tv_usec < 1000000));
	long long diff = ns(&t) - (tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL);
	say("agrees with CLOCK_REALTIME (read after it, within 1 s): %s", yesno(diff >= 0 && diff < 1000000000LL));
	T(S(gettimeofday, &tv, &tz));
	T(S(gettimeofday, NULL, &tz));
	T(S(gettimeofday, NULL, NULL));
}

static void test_time(void)
{
	struct timespec t;
	long tt = -7;

	say("-- time");
	long r = S(time, NULL);
	S(clock_gettime, CLOCK_REALTIME, &t);
	say("time(NULL) agrees with CLOCK_REALTIME (read after it): %s", yesno(r <= t.tv_sec && t.tv_sec - r <= 1));
	r = S(time, &tt);
	say("time(&t) returns what it stores: %s", yesno(r == tt && r > 1577836800));
}

static void test_usage(void)
{
	struct tms tms;
	struct rusage ru;

	say("-- times, getrusage");
	memset(&tms, 0xff, sizeof tms);
	long r = S(times, &tms);
	say("times(&tms): not an error: %s, utime, stime >= 0: %s, children 0: %s", yesno(r != -1), yesno(tms.tms_utime >= 0 && tms.tms_stime >= 0),
	    yesno(tms.tms_cutime == 0 && tms.tms_cstime == 0));
	say("times(NULL): not an error: %s", yesno(S(times, NULL) != -1));
	memset(&ru, 0xff, sizeof ru);
	T(S(getrusage, RUSAGE_SELF, &ru));
	say("  0 <= tv_usec < 1e6: %s, some time used: %s, maxrss > 0: %s", yesno(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000),
	    yesno(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec > 0), yesno(ru.ru_maxrss > 0));
	memset(&ru, 0xff, sizeof ru);
	T(S(getrusage, RUSAGE_CHILDREN, &ru));
	say("  no children: zero times: %s", yesno(ru.ru_utime.tv_sec == 0 && ru.ru_utime.tv_usec == 0 && ru.ru_stime.tv_sec == 0 && ru.ru_stime.tv_usec == 0));
	T(S(getrusage, K_RUSAGE_THREAD, &ru));
	T(S(getrusage, 99, &ru));
	T(S(getrusage, RUSAGE_SELF, NULL));
}

static void sleep_case(long sec, long nsec)
{
	struct timespec req = { sec, nsec };
	long r = S(nanosleep, &req, NULL);
	if (r == -1)
		say("nanosleep({%ld, %ld}) = -1 %s", sec, nsec, errname(errno));
	else
		say("nanosleep({%ld, %ld}) = %ld", sec, nsec, r);
}

static void test_nanosleep(void)
{
	struct timespec req, rem;
	long long t0, t1;

	say("-- nanosleep");
	req = (struct timespec){ 0, 20000000 };
	rem = (struct timespec){ 99, 99 };
	t0 = mono();
	TL("nanosleep({0, 20 ms}, &rem)", S(nanosleep, &req, &rem));
	t1 = mono();
	say("slept at least 20 ms: %s, less than 5 s: %s", yesno(t1 - t0 >= 20000000LL), yesno(t1 - t0 < 5000000000LL));
	sleep_case(0, 0);
	sleep_case(0, 9999999);
	sleep_case(0, 2000000000);
	sleep_case(0, 1000000000);
	sleep_case(0, -1);
	sleep_case(-1, 0);
	sleep_case(-1, -1);
	T(S(nanosleep, NULL, NULL));

	say("-- clock_nanosleep");
	req = (struct timespec){ 0, 10000000 };
	t0 = mono();
	TL("clock_nanosleep(CLOCK_MONOTONIC, 0, {0, 10 ms})", S(clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
	t1 = mono();
	say("slept at least 10 ms: %s", yesno(t1 - t0 >= 10000000LL));
	S(clock_gettime, CLOCK_MONOTONIC, &req);
	req.tv_nsec += 15000000;
	if (req.tv_nsec >= 1000000000) {
		req.tv_nsec -= 1000000000;
		req.tv_sec++;
	}
	TL("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, now + 15 ms)", S(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL));
	say("TIMER_ABSTIME: woke at or after the deadline: %s", yesno(mono() >= ns(&req)));
	req = (struct timespec){ 1, 0 };
	t0 = mono();
	TL("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {1, 0}: long past)", S(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL));
	say("  a deadline in the past returns at once: %s", yesno(mono() - t0 < 500000000LL));
	S(clock_gettime, CLOCK_REALTIME, &req);
	req.tv_sec -= 1;
	TL("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, now - 1 s)", S(clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &req, NULL));
	req = (struct timespec){ 0, 1000 };
	TL("clock_nanosleep(CLOCK_BOOTTIME, 0, {0, 1 us})", S(clock_nanosleep, CLOCK_BOOTTIME, 0, &req, NULL));
	TL("clock_nanosleep(100, 0, {0, 1 us})", S(clock_nanosleep, 100, 0, &req, NULL));
	req = (struct timespec){ 0, 2000000000 };
	TL("clock_nanosleep(CLOCK_MONOTONIC, 0, {0, 2e9})", S(clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
	T(S(clock_nanosleep, CLOCK_MONOTONIC, 0, NULL, NULL));
}

int main(void)
{
	begin("time");
	test_clock_gettime();
	test_clock_getres();
	test_gettimeofday();
	test_time();
	test_usage();
	test_nanosleep();
	say("== end");
	return 0;
}
