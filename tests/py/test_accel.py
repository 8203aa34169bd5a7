"""The C stand-ins for email.parser.Parser.parsestr and email.utils.formatdate
(theframework.accel) give exactly what the pure-Python originals give, for
every input; the counters prove which inputs the C path answered itself.
They are on by default under tfpython, put in place when a module is first
imported, off with TFPYTHON_ACCELERATE=0, and restore() takes them out."""
import email
import email.message
import email.parser
import email.policy
import email.utils
import http.client
import inspect
import io
import random
import subprocess
import textwrap
import time
import types

import pytest

import _framework_accel
from conftest import PYTHON, plain_python_env, run_python, run_tfpython
from theframework import accel, monkey
from theframework.monkey import get_original

ORIGINAL_PARSESTR = get_original("email.parser", "Parser.parsestr")
ORIGINAL_FORMATDATE = get_original("email.utils", "formatdate")


def counts():
    return _framework_accel.counts()


@pytest.fixture(autouse=True)
def stand_ins_installed():
    """Every comparison here is against the stand-ins, never original vs
    original."""
    assert type(email.parser.Parser.__dict__["parsestr"]) is _framework_accel.stand_in
    assert type(email.utils.formatdate) is _framework_accel.stand_in


def test_the_stand_ins_are_installed_and_look_like_the_originals():
    assert type(email.parser.Parser.__dict__["parsestr"]) is _framework_accel.stand_in
    assert type(email.utils.formatdate) is _framework_accel.stand_in
    assert repr(email.utils.formatdate) == repr(ORIGINAL_FORMATDATE)
    assert email.utils.formatdate.__name__ == "formatdate"
    assert email.utils.formatdate.__doc__ == ORIGINAL_FORMATDATE.__doc__
    assert inspect.signature(email.utils.formatdate) == inspect.signature(ORIGINAL_FORMATDATE)
    assert inspect.signature(email.parser.Parser.parsestr) == inspect.signature(ORIGINAL_PARSESTR)
    parser = email.parser.Parser()
    assert inspect.signature(parser.parsestr) == inspect.signature(ORIGINAL_PARSESTR.__get__(parser))
    assert repr(parser.parsestr).startswith("<bound method Parser.parsestr of ")


def test_accelerated_by_default_under_tfpython_and_not_a_patch():
    assert all(accel.is_accelerated(name) for name in ("email.parser", "email.utils"))
    assert not monkey.is_module_patched("email.parser") and not monkey.is_module_patched("email.utils")
    assert not monkey.is_object_patched("email.utils", "formatdate")
    # get_original gives python3's pure-Python functions, which the stand-ins wrap.
    assert type(ORIGINAL_FORMATDATE) is type(ORIGINAL_PARSESTR) is types.FunctionType
    assert ORIGINAL_FORMATDATE.__code__.co_filename == email.utils.__file__
    assert ORIGINAL_PARSESTR.__code__.co_filename == email.parser.__file__
    assert email.utils.formatdate.__wrapped__ is ORIGINAL_FORMATDATE


def test_the_stand_ins_pickle_and_copy_by_reference_as_functions_do():
    import copy
    import pickle
    for stand_in in (email.utils.formatdate, email.parser.Parser.parsestr):
        assert pickle.loads(pickle.dumps(stand_in)) is stand_in
        assert copy.copy(stand_in) is stand_in and copy.deepcopy(stand_in) is stand_in
    # Protocol 0 spells the reference out: python3 writes the same bytes.
    assert pickle.dumps(email.utils.formatdate, 0) == b"cemail.utils\nformatdate\np0\n."


# ---------------------------------------------------------------- parsestr --

def message_state(msg):
    """Everything FeedParser decides about a message, nested parts included."""
    payload = msg._payload
    if isinstance(payload, list):
        payload = [message_state(part) for part in payload]
    return (type(msg), list(vars(msg)), msg.policy, list(msg._headers), payload, msg._unixfrom,
            msg.preamble, msg.epilogue, msg._charset, msg._default_type,
            [(type(d), str(d)) for d in msg.defects])


def both(parser, text, *args, **kwargs):
    """(original's outcome, stand-in's outcome): a state or an exception."""
    outcomes = []
    for parse in (lambda: ORIGINAL_PARSESTR(parser, text, *args, **kwargs),
                  lambda: parser.parsestr(text, *args, **kwargs)):
        try:
            outcomes.append(message_state(parse()))
        except Exception as e:  # compared by type and message
            outcomes.append((type(e), str(e)))
    return outcomes


NAMES = ["Host", "Content-Type", "content-TYPE", "X-a.b", "!#$%&'*+-.^_`|~", "A", "(x)", "Na\x7fme",
         "Bad Name", "", " Lead", "\tTab", "From", "Na\xe9me", "X\udc80", "9", "@"]
SEPARATORS = [":", ": ", ":\t ", ":   ", " :", ""]
VALUES = ["", "x", "127.0.0.1:8081", "a b", "trailing  ", "mid\rdle", "\xe9t\xe9", "\x85\xa0",
          "\u2028", "\udc80\udcff", "\U0001F600", "multipart/mixed; boundary=x", "message/rfc822",
          "text/html; charset=utf-8", " MULTIPART/alternative", "a/b/c", "; x", "message/delivery-status",
          "\x0b\x0c\x1c", "x\r"]
ENDINGS = ["\r\n", "\n", "\r", "\r\r\n", ""]
ODD_LINES = ["From someone Mon Jan 1\r\n", " continued\r\n", "\tcontinued\n", "no colon here\r\n",
             ":no name\r\n", "\r\n"]
TERMINATORS = ["\r\n", "\n", "", "\r", "x\r\n", "\r\r\n"]
BODIES = ["", "body\r\n", "more\rstuff", "--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n", "\r\n\r\n"]


def random_block(rng):
    lines = []
    for _ in range(rng.randrange(0, 6)):
        if rng.random() < 0.08:
            lines.append(rng.choice(ODD_LINES))
        elif rng.random() < 0.7:  # mostly well-formed lines, so the C path is exercised
            lines.append(rng.choice(NAMES[:6]) + rng.choice(SEPARATORS[:4]) + rng.choice(VALUES[:5])
                         + rng.choice(ENDINGS[:2]))
        else:
            lines.append(rng.choice(NAMES) + rng.choice(SEPARATORS) + rng.choice(VALUES) + rng.choice(ENDINGS))
    terminator = "\r\n" if rng.random() < 0.6 else rng.choice(TERMINATORS)
    return "".join(lines) + terminator + rng.choice(BODIES)


def test_random_header_blocks_parse_exactly_as_feedparser_does(in_hub):
    rng = random.Random(20261126)
    before = counts()
    parsers = [email.parser.Parser(), email.parser.Parser(_class=http.client.HTTPMessage),
               email.parser.HeaderParser()]
    for _ in range(4000):
        text = random_block(rng)
        for parser in parsers:
            original, ours = both(parser, text)
            assert ours == original, repr(text)
        original, ours = both(parsers[0], text, headersonly=True)
        assert ours == original, repr(text)
    after = counts()
    # Both paths were taken many times (of 16000 calls; HeaderParser's own
    # parse() always takes the original).
    assert after["parsestr_fast"] - before["parsestr_fast"] > 4000
    assert after["parsestr_original"] - before["parsestr_original"] > 6000


@pytest.mark.parametrize("text", [
    "Host: x\r\n\r\n",
    "\r\n",
    "\n",
    "Host: x\r\nAccept:   */*  \r\nUser-Agent: t\r\n\r\nbody\rmore\r\n",
    "Content-Type: text/html\r\n\r\n<p>",
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody",
    "content-type: a/b/c\r\n\r\n",
    "Host: x",                   # no blank line
    "Host: x\r\nFrom me\r\n\r\n",  # a misplaced envelope
    "X: a\rb\r\n\r\n",           # a lone CR ends FeedParser's line
    "X: \xe9\u20ac\U0001F600\r\n\r\n",
    "X\udc80: y\r\n\r\n",
])
def test_chosen_texts_parse_exactly_as_feedparser_does(text):
    for parser in (email.parser.Parser(), email.parser.Parser(_class=http.client.HTTPMessage),
                   email.parser.HeaderParser(), email.parser.Parser(policy=email.policy.default)):
        original, ours = both(parser, text)
        assert ours == original


def test_http_request_headers_take_the_c_path(in_hub):
    before = counts()["parsestr_fast"]
    raw = (b"Host: example.org\r\nUser-Agent: curl/8\r\nAccept: */*\r\n"
           b"Connection: keep-alive\r\n\r\n")
    msg = http.client.parse_headers(io.BytesIO(raw))
    assert counts()["parsestr_fast"] == before + 1
    assert type(msg) is http.client.HTTPMessage
    assert msg.items() == [("Host", "example.org"), ("User-Agent", "curl/8"), ("Accept", "*/*"),
                           ("Connection", "keep-alive")]
    assert msg.get_content_type() == "text/plain" and msg.get_payload() == "" and msg.defects == []


def test_bytes_parser_text_with_surrogates_takes_the_c_path():
    raw = b"Subject: caf\xc3\xa9\r\nX-Bin: \xff\xfe\r\n\r\nbody \xff\r\n"
    before = counts()["parsestr_fast"]
    ours = email.parser.BytesParser().parsebytes(raw)
    assert counts()["parsestr_fast"] == before + 1
    text = raw.decode("ascii", "surrogateescape")
    assert message_state(ours) == message_state(ORIGINAL_PARSESTR(email.parser.Parser(), text))
    assert ours["X-Bin"] == ORIGINAL_PARSESTR(email.parser.Parser(), text)["X-Bin"]


def test_classes_and_parsers_with_their_own_behaviour_get_the_original():
    calls = []

    class Recording(email.message.Message):
        def set_raw(self, name, value):
            calls.append(name)
            super().set_raw(name, value)

    class OwnParse(email.parser.Parser):
        def parse(self, fp, headersonly=False):
            calls.append("parse")
            return super().parse(fp, headersonly)

    class Meta(type):
        pass

    class WithMeta(email.message.Message, metaclass=Meta):
        pass

    before = counts()["parsestr_fast"]
    email.parser.Parser(_class=Recording).parsestr("A: 1\r\nB: 2\r\n\r\n")
    OwnParse().parsestr("A: 1\r\n\r\n")
    email.parser.Parser(_class=WithMeta).parsestr("A: 1\r\n\r\n")
    assert calls == ["A", "B", "parse"]
    assert counts()["parsestr_fast"] == before


class Truthy:
    def __bool__(self):
        raise RuntimeError("truth tested")


@pytest.mark.parametrize("call", [
    lambda p: p.parsestr(),
    lambda p: p.parsestr("A: 1\r\n\r\n", False, 3),
    lambda p: p.parsestr("A: 1\r\n\r\n", headersonly=Truthy()),
    lambda p: p.parsestr(text="A: 1\r\n\r\n"),
    lambda p: p.parsestr("A: 1\r\n\r\n", nope=1),
    lambda p: p.parsestr(b"A: 1\r\n\r\n"),
    lambda p: email.parser.Parser.parsestr(object(), "A: 1\r\n\r\n"),
])
def test_odd_calls_behave_as_the_original(call):
    def outcome(parsestr):
        email.parser.Parser.parsestr = parsestr
        try:
            return ("ok", message_state(call(email.parser.Parser())))
        except Exception as e:
            return (type(e), str(e))
        finally:
            email.parser.Parser.parsestr = patched
    patched = email.parser.Parser.__dict__["parsestr"]
    assert outcome(patched) == outcome(ORIGINAL_PARSESTR)


# -------------------------------------------------------------- formatdate --

def formatdate_both(*args, **kwargs):
    outcomes = []
    for formatdate in (ORIGINAL_FORMATDATE, email.utils.formatdate):
        try:
            outcomes.append(formatdate(*args, **kwargs))
        except Exception as e:
            outcomes.append((type(e), str(e)))
    return outcomes


def test_formatdate_matches_the_original_on_random_and_edge_timestamps(in_hub):
    rng = random.Random(7)
    stamps = [rng.uniform(0, 4e9) for _ in range(3000)]
    stamps += [float(int(s)) + f for s in stamps[:300]
               for f in (0.4999995, 0.5, 0.9999994, 0.9999995, 0.9999996, 0.99999949999, 1e-7)]
    stamps += [0, 0.0, 1, 951782400, 951868799.9999996, 253402300799, 253402300799.4, 253402300799.9999996,
               253402300800, 2 ** 63, -1, -0.0000004, -0.5, -1e10, 1e20, float("nan"), float("inf"),
               True, None, "1", 1.5j]
    before = counts()
    for stamp in stamps:
        for kwargs in ({}, {"usegmt": True}, {"usegmt": False}, {"localtime": True}):
            original, ours = formatdate_both(stamp, **kwargs)
            assert ours == original, (stamp, kwargs)
    after = counts()
    assert after["formatdate_fast"] - before["formatdate_fast"] > 3000 * 3
    assert after["formatdate_original"] > before["formatdate_original"]


def test_formatdate_odd_calls_behave_as_the_original():
    for args, kwargs in [((), {}), ((1.0, False, True, 4), {}), ((1.0,), {"timeval": 2.0}),
                         ((), {"when": 1.0}), ((1.0,), {"localtime": 0, "usegmt": 1}),
                         ((1.0,), {"usegmt": Truthy()}), ((), {"usegmt": True, "timeval": 86400})]:
        original, ours = formatdate_both(*args, **kwargs)
        if not args and not kwargs:  # the clock moved on between the two calls at most a second
            continue
        assert ours == original, (args, kwargs)


def test_http_server_dates_take_the_c_path(in_hub):
    from http.server import BaseHTTPRequestHandler
    before = counts()["formatdate_fast"]
    text = BaseHTTPRequestHandler.date_time_string(None, time.time())
    assert counts()["formatdate_fast"] == before + 1
    assert text.endswith(" GMT") and len(text) == 29


# ----------------------------------------------------- switch and life cycle --

STATE = textwrap.dedent("""
    import sys, types, _framework_accel
    from theframework import accel, monkey

    def state():
        import email.parser, email.utils
        stand_ins = (type(email.utils.formatdate) is _framework_accel.stand_in,
                     type(email.parser.Parser.__dict__["parsestr"]) is _framework_accel.stand_in)
        return stand_ins, accel.is_accelerated("email.utils"), accel.is_accelerated("email.parser")
""")


def test_accelerate_off_leaves_the_originals():
    r = run_tfpython(STATE + textwrap.dedent("""
        import email.parser, email.utils
        print(type(email.utils.formatdate) is types.FunctionType,
              type(email.parser.Parser.__dict__['parsestr']) is types.FunctionType, state())
    """), env={"TFPYTHON_ACCELERATE": "0"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True True ((False, False), False, False)\n"


def test_a_module_first_imported_after_start_up_gets_its_stand_ins():
    r = run_tfpython(STATE + textwrap.dedent("""
        print("email.utils" in sys.modules, "email.parser" in sys.modules, state())
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "False False ((True, True), True, True)\n"


def test_restore_gives_python3s_functions_back_and_accelerate_puts_the_stand_ins_again():
    r = run_tfpython(STATE + textwrap.dedent("""
        import email.utils, email.parser
        python3s = (monkey.get_original("email.utils", "formatdate"),
                    monkey.get_original("email.parser", "Parser.parsestr"))
        def back():
            return (email.utils.formatdate is python3s[0], email.parser.Parser.__dict__["parsestr"] is python3s[1])
        print(back(), state())
        accel.restore()  # the accelerators alone: the patches stay
        print(back(), state(), monkey.is_module_patched("time"))
        accel.accelerate()
        print(back(), state())
        monkey.restore()  # everything
        print(back(), state(), monkey.is_module_patched("time"))
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "(False, False) ((True, True), True, True)",
        "(True, True) ((False, False), False, False) True",
        "(False, False) ((True, True), True, True)",
        "(True, True) ((False, False), False, False) False",
    ]


def test_after_restore_a_module_first_imported_stays_python3s():
    for restore in ("accel.restore()", "monkey.restore()"):
        r = run_tfpython(STATE + restore + "\nprint(state())")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "((False, False), False, False)\n"


def test_under_python3_accelerate_leaves_alone_what_it_is_told_to():
    r = run_python(STATE + textwrap.dedent("""
        import email.utils  # imported before; email.parser, left alone, after
        try:
            accel.accelerate(**{"email.message": False})
        except TypeError as e:
            print(e)
        accel.accelerate(**{"email.parser": False})
        print(state(), monkey.is_module_patched("socket"))
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["accelerate() got unexpected module names: 'email.message'",
                                     "((True, False), True, False) False"]


def test_python3_monkey_entry_accelerates_unless_told_not_to(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(STATE + "print(state())\n")
    for args, expected in [((), "((True, True), True, True)"),
                           (("--no-accelerate",), "((False, False), False, False)")]:
        r = subprocess.run([PYTHON, "-m", "theframework.monkey", *args, str(script)], capture_output=True,
                           text=True, timeout=60, env=plain_python_env())
        assert r.returncode == 0, r.stderr
        assert r.stdout == expected + "\n"
