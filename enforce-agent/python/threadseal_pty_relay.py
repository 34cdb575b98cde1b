#!/usr/bin/python3
# Makes a pseudo-terminal pair for the threadseal printer simulator (node has no pty API): prints the
# terminal's path as the first line on stdout, then relays bytes between the pty master and its own
# stdin/stdout until stdin closes. The terminal is raw (no echo, no line editing), like a USB serial port.
import os
import select
import sys
import tty

master, slave = os.openpty()
tty.setraw(slave)
sys.stdout.buffer.write(("PTY %s\n" % os.ttyname(slave)).encode())
sys.stdout.buffer.flush()
# The slave stays open here, so the terminal survives an adapter that closes and reopens it.
stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
while True:
    readable, _, _ = select.select([master, stdin], [], [])
    if master in readable:
        data = os.read(master, 65536)
        if data:
            os.write(stdout, data)
    if stdin in readable:
        data = os.read(stdin, 65536)
        if not data:
            break
        view = memoryview(data)
        while view:
            view = view[os.write(master, view):]
