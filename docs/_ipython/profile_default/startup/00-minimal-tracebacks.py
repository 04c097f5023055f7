"""The docs' kernel: an exception a page shows on purpose (a refused input) prints as its type
and message, not as a traceback through llmphys's source and the build machine's paths."""

from IPython import get_ipython

get_ipython().run_line_magic("xmode", "Minimal")
