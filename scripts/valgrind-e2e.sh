#!/usr/bin/env bash
# Runs the end-to-end tests of a build directory under valgrind memcheck and fails on any memory
# error or leak (definite or indirect) in any process they start, children included.
#
#   scripts/valgrind-e2e.sh BUILD_DIR [CTEST_REGEX]
#
# CTEST_REGEX defaults to '^(client_|cli_|sim_)' (the end-to-end suites; unit tests of those
# prefixes run too, which costs little). The tests are taken from `ctest --show-only=json-v1`
# (command, working directory, environment, timeout, fixtures), so any test added under those
# prefixes is covered without editing this script. Each test command runs as
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect
#            --trace-children=yes ... <command>
# with no suppression file and no --error-exitcode (a system tool's own leak must not change a
# test's exit status: errors are read from the logs instead). Every traced process writes its
# own log; the run fails when a test
# fails, or when the log of any of OUR processes (an executable in BUILD_DIR or the repository)
# has a nonzero ERROR SUMMARY (errors or definite/indirect leaks). System tools that test
# scripts run (mktemp, sed, ... leak a little by design) are not judged.
#
# Environment:
#   VALGRIND_SKIP     --trace-children-skip patterns (default: python3, node and the common
#                     leaf tools of test scripts, which are not ours and only cost time)
#   VALGRIND_FACTOR   multiplies each test's TIMEOUT (default 10)
#   VALGRIND_LOGS     where the logs go (default BUILD_DIR/valgrind-e2e)
#   VALGRIND_ARGS     extra valgrind options
# Use a normal (not ASan) build: RelWithDebInfo or Debug.
set -euo pipefail
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILD_DIR [CTEST_REGEX]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
regex=${2:-'^(client_|cli_|sim_)'}
command -v valgrind >/dev/null || { echo "valgrind-e2e: valgrind not installed (scripts/install-deps.sh)" >&2; exit 2; }
if grep -q 'TVK_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "valgrind-e2e: $build is a sanitizer build; valgrind needs a normal one" >&2
  exit 2
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3

export VG_BUILD="$build" VG_REGEX="$regex"
# Leaf tools of test scripts are not traced (speed); shells, env, timeout, script and setsid are,
# since our binaries run under them.
skip='*/python3*,*/node,*/nodejs,*/mktemp,*/sed,*/grep,*/cat,*/sleep,*/head,*/tail,*/cut,*/wc'
skip+=',*/sort,*/tr,*/rm,*/mkdir,*/cmp,*/diff,*/awk,*/mawk,*/gawk,*/od,*/xxd,*/seq,*/date'
skip+=',*/tee,*/ls,*/cp,*/mv,*/kill,*/ps,*/sha256sum,*/md5sum,*/sqlite3,*/jq,*/uniq,*/stat'
skip+=',*/readlink,*/dirname,*/basename,*/touch,*/chmod,*/find,*/xargs,*/nproc,*/pgrep,*/man'
export VG_SKIP=${VALGRIND_SKIP:-$skip}
export VG_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export VG_FACTOR=${VALGRIND_FACTOR:-10}
export VG_LOGS=${VALGRIND_LOGS:-$build/valgrind-e2e}
export VG_ARGS=${VALGRIND_ARGS:-}
exec "$python" - <<'PY'
import glob, json, os, re, shlex, shutil, subprocess, sys, time

build, regex = os.environ["VG_BUILD"], os.environ["VG_REGEX"]
logs = os.environ["VG_LOGS"]
factor = float(os.environ["VG_FACTOR"])
shutil.rmtree(logs, ignore_errors=True)
os.makedirs(logs)

listing = subprocess.run(["ctest", "--show-only=json-v1", "-R", regex], cwd=build,
                         capture_output=True, text=True, check=True)
tests = json.loads(listing.stdout).get("tests", [])
if not tests:
    print("valgrind-e2e: no test matches %s in %s" % (regex, build))
    sys.exit(0)

def props(t):
    return {p["name"]: p["value"] for p in t.get("properties", [])}

VG = ["valgrind", "--tool=memcheck", "--leak-check=full",
      "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
      "--trace-children=yes",
      "--trace-children-skip=" + os.environ["VG_SKIP"], "--child-silent-after-fork=yes",
      "--num-callers=30"] + shlex.split(os.environ["VG_ARGS"])
ERR_LINE = re.compile(r"==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|"
                      r"Syscall param|Mismatched free|Source and destination overlap|"
                      r"\d[\d,]* bytes in [\d,]+ blocks are (definitely|indirectly) lost)")

ours_dirs = [os.path.realpath(build) + os.sep, os.environ["VG_REPO"] + os.sep]

def ours(cmd):
    """Whether the traced executable is one of ours (built in the build tree or a script of the
    repository): system tools a test script runs (mktemp, sed, ...) have their own leaks."""
    exe = re.split(r"(?<!\\) ", cmd, 1)[0].replace("\\ ", " ")
    return any(os.path.realpath(exe).startswith(d) for d in ours_dirs)

foreign = []

def judge(log):
    """(ok, summary line) for one process log."""
    text = open(log, errors="replace").read()
    cmd = re.search(r"==\d+== Command: (.*)", text)
    cmd = cmd.group(1) if cmd else "?"
    if not ours(cmd):
        m = re.findall(r"ERROR SUMMARY: ([\d,]+) errors", text)
        if m and int(m[-1].replace(",", "")):
            foreign.append(cmd)
        return True, "%s: not ours, not judged" % cmd
    m = re.findall(r"ERROR SUMMARY: ([\d,]+) errors", text)
    if m:
        n = int(m[-1].replace(",", ""))
        return n == 0, "%s: %d error(s)" % (cmd, n)
    bad = ERR_LINE.search(text)
    if bad:
        return False, "%s: %s (no summary: killed)" % (cmd, bad.group(1))
    return True, "%s: no summary (killed before exit; no leak check)" % cmd

def alive(log):
    """Whether the process that writes this log (its pid is in the name) still runs."""
    pid = log.rsplit(".", 2)[-2]
    try:
        with open("/proc/%s/status" % pid) as f:
            return not re.search(r"^State:\s+Z", f.read(), re.M)
    except OSError:
        return False

failed, results = [], []
for t in tests:
    name, p = t["name"], props(t)
    if "command" not in t:
        continue
    env = dict(os.environ)
    for kv in p.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    cwd = p.get("WORKING_DIRECTORY", build)
    timeout = float(p.get("TIMEOUT", 1500)) * factor
    if "FIXTURES_SETUP" in p or "FIXTURES_CLEANUP" in p:
        # setup/cleanup helpers (seed generation, servers) are not what is checked
        r = subprocess.run(t["command"], cwd=cwd, env=env, capture_output=True)
        results.append("%-28s %s (fixture, not under valgrind)" % (name, "ok" if r.returncode == 0 else "FAILED"))
        if r.returncode != 0:
            failed.append(name)
        continue
    logpat = os.path.join(logs, name + ".%p.log")
    out = open(os.path.join(logs, name + ".out"), "wb")
    start = time.time()
    try:
        r = subprocess.run(VG + ["--log-file=" + logpat] + t["command"], cwd=cwd, env=env,
                           stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        rc = r.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout after %.0f s" % timeout
    out.close()
    # children the test left running (or is still reaping) finish their logs first
    deadline = time.time() + 60
    while time.time() < deadline and any(alive(l) for l in glob.glob(os.path.join(logs, name + ".*.log"))):
        time.sleep(0.2)
    took = time.time() - start
    verdicts = [judge(l) for l in sorted(glob.glob(os.path.join(logs, name + ".*.log")))]
    bad = [s for ok, s in verdicts if not ok]
    ok = rc == 0 and not bad
    results.append("%-28s %s  rc=%s  %d process(es)  %.0f s" % (name, "ok" if ok else "FAILED", rc, len(verdicts), took))
    for s in bad:
        results.append("    " + s)
    if rc != 0:
        results.append("    test output: %s" % os.path.join(logs, name + ".out"))
    if not ok:
        failed.append(name)

print("== valgrind-e2e: %s (%s), logs in %s" % (build, regex, logs))
print("\n".join(results))
if foreign:
    print("valgrind-e2e: %d process(es) of system tools run by the tests reported errors or "
          "leaks of their own (not judged), e.g. %s" % (len(foreign), foreign[0][:100]))
if failed:
    print("valgrind-e2e: FAILED: %s" % " ".join(failed))
    sys.exit(1)
print("valgrind-e2e: %d test(s), zero memcheck errors, zero definite/indirect leaks" % len(tests))
PY
