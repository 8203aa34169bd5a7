"""email.parser: Parser.parsestr reads a simple header block in C (what
http.client.parse_headers, and so every http.server request, spends most
of its time on); any other text goes to the original."""
from email._policybase import compat32
from email.message import Message

import _framework_accel


def stand_ins(parser):
    Parser = parser.Parser
    return {"Parser.parsestr": _framework_accel.make_parsestr(Parser.parsestr, Parser.parse, Message, compat32)}
