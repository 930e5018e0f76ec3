"""The programs of the hostile pairs (``test_back_to_back``): what submission A does to the
sandbox it runs in, and the report submission B's own code makes of the one it runs in.

Each of A's programs runs both as the code of a notebook's answer cell and at the import of a
Python-file submission. ``REPORT`` defines ``b_report()``, which prints one line, ``B-REPORT
{json}``, that is the same on every fresh sandbox (the scratch folder's random name written as
<scratch>), and one, ``B-RANDOM {json}``, of what each fresh interpreter draws anew.
"""

from __future__ import annotations

import uuid

# What A leaves behind carries one of these; B's grade may carry neither.
MARK = f"zzA{uuid.uuid4().hex[:12]}"
DAEMON_NAME = "zz-daemon-A"  # its comm (at most 15 bytes)
PORT = 20000 + uuid.uuid4().int % 20000  # A's daemon listens here, in A's network namespace
A_SEED = 1234_5678_9012  # A seeds torch with it


SHM_KEY = 0x7A7A  # of the System V shared memory segment A makes

REPORT = r"""
def b_report():
    import builtins, gc, json, math, os, random, re, resource, signal, socket, sys, torch

    home = os.environ.get("HOME", "")
    scratch = os.path.basename(os.path.dirname(home))

    def listing(folder):
        try:
            names = os.listdir(folder)
        except OSError as exc:
            return type(exc).__name__
        # The kernel's connection file has a random name.
        return sorted(re.sub(r"^tmp[a-z0-9_]{8}[.]json$", "tmp<random>.json", n) for n in names)

    def connect(family, address):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            try:
                sock.connect(address)
                return "connected"
            except OSError as exc:
                return type(exc).__name__

    def status_field(name):
        for line in open("/proc/self/status"):
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()

    comms = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comms.append(open(f"/proc/{entry}/comm").read().strip())
            except OSError:
                pass
    with open("/proc/sysvipc/shm") as shm:
        segments = len(shm.readlines()) - 1
    listens = [
        line.split()[1]
        for line in open("/proc/net/tcp").readlines()[1:]
        if line.split()[3] == "0A"
    ]
    handlers = {}
    for name in ("SIGALRM", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGINT"):
        handler = signal.getsignal(getattr(signal, name))
        handlers[name] = getattr(handler, "__qualname__", str(handler))
    alarm_left = signal.alarm(0)
    limits = {
        name: resource.getrlimit(getattr(resource, name))
        for name in sorted(dir(resource))
        if name.startswith("RLIMIT_")
    }
    report = {
        "listings": {
            "/tmp": listing("/tmp"),
            "/dev/shm": listing("/dev/shm"),
            "home": listing(home),  # the scratch folder, also the working one
            "home's parent": listing(os.path.dirname(home)),
            "/var/tmp": listing("/var/tmp"),
            "/": listing("/"),
        },
        "processes": sorted(comms),
        "sysv_shm_segments": segments,
        "port": connect(socket.AF_INET, ("127.0.0.1", @PORT@)),
        "port_listening": any(address.endswith(f":{@PORT@:04X}") for address in listens),
        "abstract_socket": connect(socket.AF_UNIX, "\0" + @DAEMON@),
        "env": dict(sorted(os.environ.items())),
        "cwd": os.getcwd(),
        "umask": status_field("Umask"),
        "signals": {f: status_field(f) for f in ("SigBlk", "SigIgn", "SigCgt")},
        "handlers": handlers,
        "alarm_left": alarm_left,
        "nice": os.nice(0),
        "sys_path": sys.path,
        "rlimits": limits,
        "gc_enabled": gc.isenabled(),
        "recursion_limit": sys.getrecursionlimit(),
        "torch": {
            "threads": torch.get_num_threads(),
            "seeded_by_a": torch.initial_seed() == @SEED@,
            "dtype": str(torch.get_default_dtype()),
            "equal": torch.equal(torch.tensor([1.0]), torch.tensor([2.0])),
            "eq": (torch.tensor([1.0, 2.0]) == torch.tensor([1.0, 3.0])).tolist(),
            "equal_is": getattr(torch.equal, "__qualname__", repr(torch.equal)),
            "eq_is": getattr(torch.Tensor.__eq__, "__qualname__", "?"),
        },
        "print_is": type(builtins.print).__name__ + " " + builtins.print.__qualname__,
        "math": [type(sys.modules["math"]).__name__, math.isclose(1.0, 2.0), math.sqrt(4.0)],
    }
    text = json.dumps(report, sort_keys=True, default=str)
    if scratch:
        text = text.replace(scratch, "<scratch>")
    # Not the same from one fresh interpreter to the next: held apart from the report.
    drawn = {"torch": torch.initial_seed(), "python": random.getrandbits(64)}
    sys.stdout.write(f"B-REPORT {text}\nB-RANDOM {json.dumps(drawn)}\n")
""".replace("@PORT@", str(PORT)).replace("@DAEMON@", repr(DAEMON_NAME))
REPORT = REPORT.replace("@SEED@", str(A_SEED))

# A's hostile code: each runs as a notebook cell, and at import of a .py submission.
PATCH_TORCH = f'''
import builtins, json, os, sys, sysconfig, torch, types
attempts = {{}}
torch_dir = os.path.dirname(torch.__file__)
site = sysconfig.get_paths()["purelib"]
targets = [
    (torch.__file__, "a"),
    (os.path.join(torch_dir, "{MARK}.py"), "x"),
    (os.path.join(torch_dir, "__pycache__", "{MARK}.pyc"), "x"),
    (os.path.join(site, "{MARK}.pth"), "x"),
    (os.path.join(os.path.dirname(os.__file__), "{MARK}.py"), "x"),
]
for path, mode in targets:
    try:
        with open(path, mode) as f:
            f.write("") if mode == "a" else f.write("# {MARK}\\n")
        attempts[path] = "wrote"
    except OSError as exc:
        attempts[path] = type(exc).__name__ + " " + str(exc.strerror)
sys.stderr.write("A-WRITES " + json.dumps(attempts) + "\\n")  # in the log for a .py file
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
fake_math = types.ModuleType("math")
fake_math.isclose = lambda *a, **k: True
fake_math.sqrt = lambda x: "{MARK}"
sys.modules["math"] = fake_math
real_print = builtins.print
builtins.print = lambda *a, **k: real_print("{MARK}", *a, **k)
'''

PLANT_FILES = f'''
import ctypes, os
home = os.environ.get("HOME", os.getcwd())
planted = {{}}
for folder in ["/tmp", "/dev/shm", home, os.path.dirname(os.getcwd()), "/var/tmp", "/"]:
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "{MARK}-planted"), "w") as f:
            f.write("{MARK}")
        planted[folder] = "planted"
    except OSError as exc:
        planted[folder] = type(exc).__name__
libc = ctypes.CDLL(None, use_errno=True)
planted["sysv_shm"] = libc.shmget({SHM_KEY}, 4096, 0o1000 | 0o666)  # IPC_CREAT
print("A-PLANTED", planted)
'''

LEAVE_DAEMON = f'''
import ctypes, glob, os, signal, socket, time
def _daemon():
    os.setsid()
    if os.fork():
        os._exit(0)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(15, b"{DAEMON_NAME}", 0, 0, 0)  # PR_SET_NAME
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 4096)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", {PORT}))
    listener.listen()
    listener.settimeout(0.2)
    hidden = socket.socket(socket.AF_UNIX)
    hidden.bind("\\0{DAEMON_NAME}")
    hidden.listen()
    cwd = os.getcwd()
    pattern = os.path.join(os.path.dirname(os.path.dirname(cwd)), "*", os.path.basename(cwd))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for folder in ["/tmp", "/dev/shm", *glob.glob("/tmp/grade-*/work"), *glob.glob(pattern)]:
            try:
                with open(os.path.join(folder, "{MARK}-daemon"), "w") as f:
                    f.write("{MARK}")
            except OSError:
                pass
        try:
            listener.accept()[0].close()
        except OSError:
            pass
    os._exit(0)
_child = os.fork()
if _child == 0:
    try:
        _daemon()
    finally:
        os._exit(0)
os.waitpid(_child, 0)
for _ in range(600):  # until it listens (B's checks are shown to see it in A's own run)
    try:
        socket.create_connection(("127.0.0.1", {PORT}), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
print("A left a daemon")
'''

FILL_MEMORY = """
hog = []
try:
    while True:
        hog.append(b"\\xa5" * (16 * 2**20))  # touched: resident, not just reserved
except MemoryError:
    pass
print("A holds", len(hog) * 16, "MiB")
"""

CHANGE_PROCESS_STATE = f"""
import gc, os, resource, signal, sys, torch
os.environ["{MARK}"] = "set by A"
os.environ["PATH"] = "/{MARK}:" + os.environ.get("PATH", "")
os.environ["OMP_NUM_THREADS"] = "4"
os.chdir("/")
os.umask(0)
signal.signal(signal.SIGALRM, lambda *a: None)
signal.alarm(50)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR2}})
sys.path.insert(0, "/tmp/{MARK}")
torch.set_num_threads(4)
torch.manual_seed({A_SEED})
torch.set_default_dtype(torch.float64)
os.nice(5)
gc.disable()
resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
sys.setrecursionlimit(200)
"""
# Last, in a cell of its own in a notebook: a kernel with 10 open files runs no cell after it.
LOWER_OPEN_FILES = """
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (10, 10))
"""

HOSTILE = {
    "patches torch, print and math": PATCH_TORCH,
    "plants files": PLANT_FILES,
    "leaves a daemon": LEAVE_DAEMON,
    "fills its memory": FILL_MEMORY,
    "changes process-wide state": CHANGE_PROCESS_STATE,
}


# The tests B fails: each passes if the function it leans on were patched to say yes.
B_FAILS = {
    "test_equal": 'assert torch.equal(relu(x), expected), "torch.equal: relu(-1) should be 0"',
    "test_eq": 'assert bool((relu(x) == expected).all()), "==: relu(-1) should be 0"',
    "test_math": 'assert math.isclose(relu(x)[0].item(), 0.0), "math: relu(-1) should be 0"',
}
B_PASSES = {"test_shape": 'assert relu(x).shape == x.shape, "relu keeps the shape"'}
TEST_SETUP = (
    "import math\nimport torch\n"
    "x = torch.tensor([-1.0, 2.0])\nexpected = torch.tensor([0.0, 2.0])\n"
)
WRONG_RELU = "def relu(x):\n    return x.abs()\n"  # wrong for negative inputs
