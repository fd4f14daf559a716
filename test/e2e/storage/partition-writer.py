#!/usr/bin/env python3
"""A bounded stream of writes through a Gluster FUSE mount, each one reported
acknowledged or refused with its errno (test/e2e/storage/partition.test.ts).

Usage: partition-writer.py <dir> <writer> <max-writes> <interval-seconds> <run-seconds>

Every round writes two things under <dir>:
  - its own new file <dir>/<writer>/f<seq>: written to a temporary name, fsync'ed,
    then renamed into place; acknowledged only once the rename returned, so a
    refused write leaves no file under the final name;
  - the file both writers share, <dir>/shared, rewritten whole (truncate, write,
    fsync): what a split-brain needs, two sides changing the same file.
It stops after <max-writes> rounds or <run-seconds>, whichever comes first (a
single call can block for Gluster's ping timeout, 42 s, when a brick went away
silently). The report is one JSON document on stdout: every operation with its
outcome, the errno name of a refusal and the step that was refused.
"""
import errno
import json
import os
import sys
import time


def attempt(steps):
    """Runs (step name, callable) in order; returns (True, None, None) or (False, errno name, step)."""
    for name, action in steps:
        try:
            action()
        except OSError as error:
            return False, errno.errorcode.get(error.errno, str(error.errno)), name
    return True, None, None


def write_whole(path, data, flags):
    fd = os.open(path, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: partition-writer.py <dir> <writer> <max-writes> <interval-seconds> <run-seconds>")
    root, writer = sys.argv[1], sys.argv[2]
    max_writes, interval, run_seconds = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    if not (1 <= max_writes <= 10000 and 0 <= interval <= 60 and 1 <= run_seconds <= 3600):
        sys.exit("max-writes 1..10000, interval 0..60, run-seconds 1..3600")
    mine = os.path.join(root, writer)
    shared = os.path.join(root, "shared")
    deadline = time.time() + run_seconds
    ops = []
    for seq in range(1, max_writes + 1):
        if time.time() >= deadline:
            break
        content = f"{writer} f{seq} {os.urandom(8).hex()}\n".encode() * 64
        final = os.path.join(mine, f"f{seq}")
        tmp = os.path.join(mine, f".f{seq}.tmp")
        start = time.time()
        ok, err, step = attempt([
            ("create", lambda: write_whole(tmp, content, os.O_WRONLY | os.O_CREAT | os.O_EXCL)),
            ("rename", lambda: os.rename(tmp, final)),
        ])
        ops.append({"op": "own", "seq": seq, "path": final[len(root):], "content": content.decode()[: len(content) // 64],
                    "ok": ok, "errno": err, "step": step, "start": start, "end": time.time()})
        shared_content = f"{writer} shared {seq}\n".encode()
        start = time.time()
        ok, err, step = attempt([("write", lambda: write_whole(shared, shared_content, os.O_WRONLY | os.O_CREAT | os.O_TRUNC))])
        ops.append({"op": "shared", "seq": seq, "path": shared[len(root):], "content": shared_content.decode(),
                    "ok": ok, "errno": err, "step": step, "start": start, "end": time.time()})
        time.sleep(interval)
    json.dump({"writer": writer, "ops": ops}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
