#!/usr/bin/python3
"""Runs a long Bazel command and reports its progress in plain lines.

    deploy/progress.py --label build [--every 20] -- bazel build ...

Bazel's own display redraws one line with control characters on a terminal
and, piped into a log, goes silent for minutes while an action runs. This
wrapper reads Bazel's plain output (run it with --curses=no) and prints one
line at most every --every seconds, and at least that often while the command
runs, even when Bazel itself says nothing:

    build: 312 / 1,480 actions, 2 min 40 s; Compiling model/transformer.cc
    test: 12 / 76 tests done, 14 min 5 s; running //tests:rlhf_job_test

Every other line (errors, warnings, the test summary) passes through at once.
The command's exit code is this script's exit code.
"""
import argparse
import re
import signal
import subprocess
import sys
import threading
import time

# "[1,234 / 5,678] 12 / 76 tests; Testing //tests:foo; 45s processwrapper..."
ACTIONS = re.compile(r"^\[([\d,]+) / ([\d,]+)\] (.*)$")
TESTS = re.compile(r"^(\d+) / (\d+) tests?(?:, \d+ failed)?; ")
# Bazel's phases before the first action, and its "still running" notes.
PHASES = ("Loading:", "Analyzing:", "Starting local Bazel server",
          "Still waiting for")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", required=True,
                        help="What the command does, at the start of each line.")
    parser.add_argument("--every", type=float, default=20.0,
                        help="Seconds between progress lines (default 20).")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command after --")
    if args.every <= 0:
        parser.error("--every must be positive, got %g" % args.every)
    return args


def duration(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return "%d s" % seconds
    return "%d min %d s" % (seconds // 60, seconds % 60)


def what_is_running(rest):
    """The first action Bazel names: 'Compiling x.cc' or '//tests:foo'."""
    first = rest.split(";")[0].strip()
    if first.startswith("Testing "):
        return "running " + first[len("Testing "):]
    return re.sub(r"\s*\(\d+ actions?.*\)$", "", first)


class Progress:
    """What the command last said about its progress, and when we spoke."""

    def __init__(self, label, every, out):
        self.label = label
        self.every = every
        self.out = out
        self.start = time.monotonic()
        self.last_said = self.start
        self.state = "starting"
        self.lock = threading.Lock()

    def say(self, text):
        self.out.write("%s: %s\n" % (self.label, text))
        self.out.flush()
        self.last_said = time.monotonic()

    def elapsed(self):
        return duration(time.monotonic() - self.start)

    def status(self):
        return "%s, %s" % (self.state, self.elapsed())

    def on_line(self, line):
        with self.lock:
            match = ACTIONS.match(line)
            if match:
                done, total, rest = match.groups()
                tests = TESTS.match(rest)
                if tests:
                    self.state = "%s / %s tests done; %s" % (
                        tests.group(1), tests.group(2),
                        what_is_running(rest[tests.end():]))
                else:
                    self.state = "%s / %s actions; %s" % (
                        done, total, what_is_running(rest))
                self.maybe_say()
                return
            if line.startswith(PHASES):
                self.state = line.strip().rstrip(":") or self.state
                self.maybe_say()
                return
            if not line.strip():
                return
            # Errors, warnings and summaries pass through unchanged.
            self.out.write(line + "\n")
            self.out.flush()

    def maybe_say(self):
        if time.monotonic() - self.last_said >= self.every:
            self.say(self.status())

    def heartbeat(self, stop):
        """Says where things stand whenever --every seconds pass in silence."""
        while not stop.wait(1.0):
            with self.lock:
                if time.monotonic() - self.last_said >= self.every:
                    self.say(self.status())


def main(argv):
    args = parse_args(argv)
    progress = Progress(args.label, args.every, sys.stdout)
    child = subprocess.Popen(args.command, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)

    def forward(signum, frame):
        child.send_signal(signum)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)

    stop = threading.Event()
    beat = threading.Thread(target=progress.heartbeat, args=(stop,),
                            daemon=True)
    beat.start()
    for raw in child.stdout:
        # Carriage returns and colour codes never reach a log.
        line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "",
                      raw.decode("utf-8", "replace")).rstrip("\r\n")
        progress.on_line(line.split("\r")[-1])
    code = child.wait()
    stop.set()
    beat.join()
    with progress.lock:
        progress.say("%s after %s" % ("done" if code == 0 else
                                      "failed (exit %d)" % code,
                                      progress.elapsed()))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
