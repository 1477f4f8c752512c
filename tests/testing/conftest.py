import sys
from pathlib import Path

# the helper module beside this file; CI imports tests with --import-mode=importlib
sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["pytester"]
