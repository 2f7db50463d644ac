"""Sends records to floki with Debian's python3-fluent-logger, as the interop test asks.

usage: fluent-logger-python.py MODE TARGET RUN
  MODE    plain | nano | async | unix | buffer | handler
  TARGET  host:port, or a unix socket path for MODE unix
  RUN     a name put in every record (and in the tag: py.RUN)

Prints one JSON line per record sent: {"id", "sec", "nsec"}, the time exactly as it went on the
wire, so the test can check what arrives in Loki. In buffer mode it first prints "buffered" once a
record could not be sent (floki is not up yet) and waits for a line on stdin before sending again.
"""
import json
import logging
import struct
import sys

from fluent import asyncsender, handler, sender

SEC = 1764064800
mode, target, run = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == 'unix':
    host, port = 'unix://' + target, 0
else:
    host, port = target.rsplit(':', 1)[0], int(target.rsplit(':', 1)[1])


def wire_time(t):
    """(seconds, nanoseconds) as sent: EventTime's 8 bytes, or integer or float seconds."""
    if isinstance(t, sender.EventTime):
        return struct.unpack('>II', t.data)
    if isinstance(t, float):
        whole = int(t)
        return whole, round((t - whole) * 1e9)
    return t, 0


def record(i):
    return {'id': '%s-%d' % (run, i), 'run': run, 'message': 'python record %d' % i, 'n': i, 'unicode': 'ünïcødé ✓'}


def report(i, t):
    sec, nsec = wire_time(t)
    print(json.dumps({'id': '%s-%d' % (run, i), 'sec': sec, 'nsec': nsec}), flush=True)


def send(s, times):
    for i, t in enumerate(times):
        # emit_with_time turns a float into an EventTime itself when nanosecond_precision is on.
        on_wire = sender.EventTime(t) if s.nanosecond_precision and isinstance(t, float) else t
        if not s.emit_with_time(run, t, record(i)):
            raise SystemExit('emit failed: %r' % s.last_error)
        report(i, on_wire)


if mode in ('plain', 'unix'):
    s = sender.FluentSender('py', host=host, port=port)
    # Integer seconds, and float seconds (exact in binary) without nanosecond_precision.
    send(s, [SEC, SEC + 1, SEC + 2.25, SEC + 3.5])
    s.close()
elif mode == 'nano':
    s = sender.FluentSender('py', host=host, port=port, nanosecond_precision=True)
    send(s, [SEC + 0.123456789, SEC + 1.000001, SEC + 2.999999, float(SEC + 3)])
    s.close()
elif mode == 'async':
    s = asyncsender.FluentSender('py', host=host, port=port, nanosecond_precision=True)
    times = [SEC + i + 0.5 for i in range(20)]
    for i, t in enumerate(times):
        s.emit_with_time(run, t, record(i))
        report(i, sender.EventTime(t))
    s.close()  # flushes the queue
elif mode == 'buffer':
    # floki is not listening yet: the record stays in the sender's buffer (pendings).
    s = sender.FluentSender('py', host=host, port=port, nanosecond_precision=True)
    if s.emit_with_time(run, SEC + 0.25, record(0)):
        raise SystemExit('expected the first emit to fail: nothing should be listening')
    report(0, sender.EventTime(SEC + 0.25))
    print('buffered', flush=True)
    sys.stdin.readline()
    if not s.emit_with_time(run, SEC + 1.75, record(1)):
        raise SystemExit('emit failed after floki started: %r' % s.last_error)
    report(1, sender.EventTime(SEC + 1.75))
    s.close()
elif mode == 'handler':
    h = handler.FluentHandler('py.' + run, host=host, port=port, nanosecond_precision=True)
    h.setFormatter(handler.FluentRecordFormatter({'id': '%(rid)s', 'run': run, 'level': '%(levelname)s', 'message': '%(message)s'}))

    class Report(logging.Filter):
        def filter(self, rec):
            report(int(rec.rid.rsplit('-', 1)[1]), sender.EventTime(rec.created))
            return True

    h.addFilter(Report())
    log = logging.getLogger('interop')
    log.setLevel(logging.INFO)
    log.addHandler(h)
    for i in range(3):
        log.warning('logged through FluentHandler %d', i, extra={'rid': '%s-%d' % (run, i)})
    h.close()
else:
    raise SystemExit('unknown mode ' + mode)
