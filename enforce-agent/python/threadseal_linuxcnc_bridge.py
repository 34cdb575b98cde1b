#!/usr/bin/python3
# threadseal's LinuxCNC display: the program LinuxCNC starts as its [DISPLAY] (so no X and no TCP port).
# It speaks JSON lines over one Unix stream socket in the controller's private tmpfs to the enforce agent
# (docs/controllers.md, docs/decisions/0009-linuxcnc-bridge-and-program-delivery.md). It runs as the unprivileged
# controller user inside the private mount/IPC/network/PID namespaces the agent made.
#
# Requests  {"id": n, "op": "identify" | "run" | "stop" | "shutdown", ...}
#           "run" is {"id": n, "op": "run", "jobId": "...", "bytes": N} followed on the socket by exactly N raw
#           program bytes (no base64, no JSON), which go straight into the job's tmpfs file as they arrive.
# Replies   {"id": n, "ok": true, "result": {...}} | {"id": n, "ok": false, "error": "..."}
# Events    {"event": "telemetry", ...} every poll while a job runs; {"event": "done", ...} once per job.
import json
import os
import select
import socket
import sys
import time

import hal
import linuxcnc

POLL_S = 0.02  # 50 Hz telemetry
MAX_PROGRAM_BYTES = 256 * 1024 * 1024  # a program header announcing more is refused (its bytes drained)
PAYLOAD_TIMEOUT_S = 30.0  # the agent sends the payload right after its header
ABORT_TIMEOUT_S = 2.0  # then E-stop
ESTOP_TIMEOUT_S = 3.0


def ini_path():
    for i, arg in enumerate(sys.argv):
        if arg == "-ini" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    raise SystemExit("threadseal bridge: no -ini argument")


INI_PATH = ini_path()
INI = linuxcnc.ini(INI_PATH)
RUN_DIR = os.path.join(os.path.dirname(os.path.dirname(INI_PATH)), "run")
JOB_DIR = os.path.join(os.path.dirname(os.path.dirname(INI_PATH)), "jobs")
SOCKET_PATH = os.path.join(RUN_DIR, "bridge.sock")

# A HAL component of our own (no pins) lets hal.get_value read the simulated spindle's signals.
hal_component = hal.component("threadseal_bridge")
hal_component.ready()
stat = linuxcnc.stat()
command = linuxcnc.command()
errors = linuxcnc.error_channel()


def log(msg):
    sys.stderr.write("threadseal bridge: %s\n" % msg)
    sys.stderr.flush()


def wait_for(pred, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while True:
        stat.poll()
        if pred():
            return
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.005)


def spindle_rpm_actual():
    # The simulated spindle's filtered speed (what an encoder would report), in rpm; the commanded speed
    # when this HAL has no such signal.
    try:
        return float(hal.get_value("spindle-rpm-filtered"))
    except Exception:
        return float(stat.spindle[0]["speed"])


def facts():
    certs = INI.find("THREADSEAL", "CERTIFICATIONS") or ""
    return {
        "make": INI.find("THREADSEAL", "MAKE") or "",
        "model": INI.find("THREADSEAL", "MODEL") or "",
        "serial": INI.find("THREADSEAL", "SERIAL") or "",
        "firmware": "LinuxCNC " + linuxcnc.version,
        "certifications": [c.strip() for c in certs.split(",") if c.strip()],
        "machineName": INI.find("EMC", "MACHINE") or "",
        "controller": "linuxcnc",
    }


class Job:
    def __init__(self, job_id, path):
        self.job_id = job_id
        self.path = path
        self.serial = None
        self.max_line = 0
        self.stopping = False
        self.error = None


job = None


def remove_program():
    if job is not None:
        try:
            os.unlink(job.path)
        except FileNotFoundError:
            pass


def sample():
    s0 = stat.spindle[0]
    if stat.motion_line > job.max_line:
        job.max_line = stat.motion_line
    return {
        "event": "telemetry",
        "at": time.time() * 1000.0,
        "line": stat.motion_line,
        "readLine": stat.read_line,
        "spindleRpm": spindle_rpm_actual(),
        "spindleCommandedRpm": float(s0["speed"]),
        "spindleEnabled": bool(s0["enabled"]),
        "feedRateMmMin": float(stat.current_vel) * 60.0,
        "programmedFeedMmMin": float(stat.settings[1]),
        "feedOverridePct": float(stat.feedrate) * 100.0,
        "spindleOverridePct": float(s0["override"]) * 100.0,
        "interpState": stat.interp_state,
        "execState": stat.exec_state,
        "taskState": stat.task_state,
    }


class Receiver:
    """The agent's side of the socket: JSON lines, and the raw payload that follows a "run" header."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def fill(self):
        chunk = self.conn.recv(1 << 20)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def next_line(self):
        nl = self.buf.find(b"\n")
        if nl < 0:
            return None
        line, self.buf = self.buf[:nl], self.buf[nl + 1 :]
        return line

    def payload_into(self, fd, n):
        """Moves exactly n payload bytes to fd (or drops them when fd is None); False if the agent went away."""
        left = n
        head = self.buf[:left]
        self.buf = self.buf[len(head) :]
        write_all(fd, head)
        left -= len(head)
        self.conn.settimeout(PAYLOAD_TIMEOUT_S)
        try:
            while left > 0:
                chunk = self.conn.recv(min(left, 1 << 20))
                if not chunk:
                    return False
                write_all(fd, chunk)
                left -= len(chunk)
        finally:
            self.conn.settimeout(None)
        return True


def write_all(fd, data):
    if fd is None:
        return
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def start_job(req, receiver):
    global job
    size = req.get("bytes")
    if not isinstance(size, int) or size < 0:
        raise ProtocolError("run needs the program's length in bytes")
    job_id = str(req.get("jobId"))
    refusal = None
    if job is not None:
        refusal = "a job is already running"
    elif not job_id.isalnum():
        refusal = "job id must be alphanumeric"
    elif size > MAX_PROGRAM_BYTES:
        refusal = "program of %d bytes is over the bridge's %d" % (size, MAX_PROGRAM_BYTES)
    fd = None
    began = time.monotonic()
    path = os.path.join(JOB_DIR, job_id + ".ngc")
    if refusal is None:
        # 0400, created here only: O_EXCL and O_NOFOLLOW so no link or earlier file is written through.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        except OSError as e:
            refusal = "cannot create the program file: %s" % e.strerror
    try:
        # The payload is read whole even when refused, so the next request starts on a line boundary.
        complete = receiver.payload_into(fd, size)
    except BaseException:
        if fd is not None:
            os.close(fd)
            os.unlink(path)
        raise
    if fd is not None:
        os.close(fd)
    if not complete:
        if fd is not None:
            os.unlink(path)
        raise ProtocolError("the agent went away in the middle of a program")
    if refusal is not None:
        raise RuntimeError(refusal)
    received = time.monotonic()
    job = Job(job_id, path)
    try:
        stat.poll()
        if stat.task_state != linuxcnc.STATE_ON:
            command.state(linuxcnc.STATE_ESTOP_RESET)
            command.wait_complete()
            command.state(linuxcnc.STATE_ON)
            command.wait_complete()
        # Each command waits for task's answer (tens of ms through NML): only what is not already so is sent.
        if stat.task_mode != linuxcnc.MODE_AUTO:
            command.mode(linuxcnc.MODE_AUTO)
            command.wait_complete()
        # Every job starts as programmed: overrides a previous operator left are reset.
        if stat.feedrate != 1.0 or stat.spindle[0]["override"] != 1.0:
            command.feedrate(1.0)
            command.spindleoverride(1.0)
            command.wait_complete()
        command.program_open(path)
        command.wait_complete()
        # No wait_complete here: task reports AUTO_RUN done only when the program has ended. The job is
        # over once task has taken this command (echo serial) and the interpreter is idle again.
        command.auto(linuxcnc.AUTO_RUN, 0)
        job.serial = command.serial
    except Exception:
        remove_program()
        job = None
        raise
    return {
        "jobId": job_id,
        "deliveredTo": path,
        "mode": "0400",
        "bytes": size,
        # Where the hand-over's time goes: the bytes into the file, then LinuxCNC opening and starting it.
        "receiveMs": (received - began) * 1000.0,
        "startMs": (time.monotonic() - received) * 1000.0,
    }


def is_stopped():
    s0 = stat.spindle[0]
    return (
        stat.interp_state == linuxcnc.INTERP_IDLE
        and abs(stat.current_vel) < 1e-9
        and (not s0["enabled"] or s0["speed"] == 0)
    )


def stop_job(req):
    if job is None:
        raise RuntimeError("no job is running")
    job.stopping = True
    requested = time.time() * 1000.0
    command.abort()
    method = "abort"
    try:
        wait_for(is_stopped, ABORT_TIMEOUT_S, "the controller to confirm the abort")
    except RuntimeError:
        # Fail safe: an abort the status does not confirm becomes an E-stop (machine off).
        command.state(linuxcnc.STATE_ESTOP)
        method = "estop"
        wait_for(
            lambda: stat.task_state == linuxcnc.STATE_ESTOP and is_stopped(),
            ESTOP_TIMEOUT_S,
            "the controller to confirm the E-stop",
        )
    confirmed = time.time() * 1000.0
    return {
        "method": method,
        "requestedAt": requested,
        "confirmedAt": confirmed,
        "line": stat.motion_line,
        "interpState": stat.interp_state,
        "taskState": stat.task_state,
        "spindleCommandedRpm": float(stat.spindle[0]["speed"]),
        "feedRateMmMin": float(stat.current_vel) * 60.0,
    }


def finish(conn, outcome):
    global job
    remove_program()
    send(
        conn,
        {
            "event": "done",
            "jobId": job.job_id,
            "outcome": outcome,
            "lastLine": job.max_line,
            "error": job.error,
            "programRemoved": not os.path.exists(job.path),
        },
    )
    job = None


def send(conn, obj):
    data = (json.dumps(obj) + "\n").encode()
    conn.sendall(data)


class ProtocolError(Exception):
    """The agent's stream cannot be followed any more: the bridge ends (and LinuxCNC with it)."""


def handle(conn, req, receiver):
    op = req.get("op")
    if op == "identify":
        return facts()
    if op == "run":
        return start_job(req, receiver)
    if op == "stop":
        return stop_job(req)
    if op == "shutdown":
        raise SystemExit(0)
    raise RuntimeError("unknown op %r" % op)


def tick(conn):
    if job is None:
        return
    stat.poll()
    msg = errors.poll()
    if msg and msg[0] in (linuxcnc.NML_ERROR, linuxcnc.OPERATOR_ERROR) and job.error is None:
        job.error = msg[1]
    send(conn, sample())
    taken = job.serial is not None and stat.echo_serial_number >= job.serial
    if taken and stat.interp_state == linuxcnc.INTERP_IDLE:
        if job.stopping:
            outcome = "stopped"
        elif job.error is not None:
            outcome = "failed"
        else:
            outcome = "completed"
        finish(conn, outcome)


def serve():
    for d in (RUN_DIR, JOB_DIR):
        os.makedirs(d, mode=0o700, exist_ok=True)
    # A restarted bridge removes whatever program an earlier one left (there should be none: the tmpfs
    # dies with the namespace).
    for name in os.listdir(JOB_DIR):
        os.unlink(os.path.join(JOB_DIR, name))
    if os.path.exists(SOCKET_PATH):
        os.unlink(SOCKET_PATH)
    wait_for(lambda: stat.task_state != 0, 30, "the task controller")
    command.state(linuxcnc.STATE_ESTOP_RESET)
    command.wait_complete()
    command.state(linuxcnc.STATE_ON)
    command.wait_complete()
    wait_for(lambda: stat.task_state == linuxcnc.STATE_ON, 10, "machine on")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    server.bind(SOCKET_PATH)
    os.umask(old)
    server.listen(1)
    sys.stdout.write("THREADSEAL-BRIDGE-READY %s\n" % SOCKET_PATH)
    sys.stdout.flush()
    conn, _ = server.accept()
    server.close()
    receiver = Receiver(conn)
    next_tick = time.monotonic()
    while True:
        timeout = max(0.0, next_tick - time.monotonic())
        readable, _, _ = select.select([conn], [], [], timeout)
        if readable:
            if not receiver.fill():
                return  # the agent went away: LinuxCNC shuts down with its display
            while True:
                line = receiver.next_line()
                if line is None:
                    break
                req = json.loads(line)
                try:
                    send(conn, {"id": req.get("id"), "ok": True, "result": handle(conn, req, receiver)})
                except SystemExit:
                    send(conn, {"id": req.get("id"), "ok": True, "result": {}})
                    return
                except ProtocolError as e:
                    log(str(e))
                    return
                except Exception as e:  # the reply carries the reason; the bridge goes on
                    send(conn, {"id": req.get("id"), "ok": False, "error": str(e)})
        if time.monotonic() >= next_tick:
            tick(conn)
            next_tick = time.monotonic() + POLL_S


try:
    serve()
finally:
    remove_program()
