"""The guard keeps what it calls to report and to find where an audited operation comes from
(``os.write``, ``json.dumps``, ``sys._getframe``) as they were before the student's code ran: code
that replaces them (through a name the source scan cannot resolve) and then walks the garbage
collector for the guard, to replace its checker and forge its attestations, is still reported at
once, and the forged outputs are not vouched for."""

from __future__ import annotations

import pytest

from tests.autograder.test_guard import HONEST, run_check

FORGE = """
import gc, hashlib, hmac, json
from safetensors.torch import load_file, save
G = [o for o in getattr([gc][0], 'get_' 'objects')() if type(o).__name__ == '_Guard'][0]
def fake_check(spec_json):
    spec = json.loads(spec_json)
    x = load_file(spec['inputs'])['arg0']
    outs = {'out': torch.nn.functional.elu(x, 1.5)}
    digest = hashlib.sha256(b'forged').hexdigest()
    open(spec['outputs'], 'wb').write(save(outs, metadata={'attestation': hmac.new(
        G.key, digest.encode(), hashlib.sha256).hexdigest()}))
G.check = fake_check
"""
BLINDERS = {
    "os.write": "import os\nos.write = lambda fd, data: len(data)\n",
    "sys._getframe": "import sys\nsetattr([sys][0], '_get' 'frame', lambda *a: None)\n",
    "json.dumps": "import json\njson.dumps = lambda *a, **k: 'null'\n",
}


@pytest.mark.parametrize("blinder", list(BLINDERS))
def test_it_reports_the_walk_for_the_guard_after_its_tools_were_replaced(tmp_path, blinder):
    student = HONEST + BLINDERS[blinder] + FORGE

    _, found, vouched = run_check(tmp_path, student)

    assert any("calls gc.get_objects (student.py, line" in f for f in found), found
    assert vouched is None
