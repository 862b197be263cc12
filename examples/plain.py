# A plain script: no main(), so it runs top to bottom and prints what it wants.
import platform
import sys

print(f"Python {platform.python_version()} says hello from the sandbox")
print(f"running as uid {__import__('os').getuid()}", file=sys.stderr)
