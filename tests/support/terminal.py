#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and bridges it to plain pipes.

    python3 tests/support/terminal.py COLS ROWS -- COMMAND [ARGS...]

What arrives on stdin is typed into the terminal; what the program draws comes out
on stdout, escape sequences included. Exits with the program's exit status. The tests
use it to drive full-screen terminal programs as a person would.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios


def main():
    cols, rows = int(sys.argv[1]), int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execvp(command[0], command)
    stdin_open = True
    while True:
        readable = [master] + ([0] if stdin_open else [])
        ready, _, _ = select.select(readable, [], [], 0.1)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            os.write(1, data)
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                os.write(master, data)
            else:
                stdin_open = False
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            # Drain what the program wrote last.
            try:
                while True:
                    data = os.read(master, 65536)
                    if not data:
                        break
                    os.write(1, data)
            except OSError:
                pass
            sys.exit(os.waitstatus_to_exitcode(status))
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
