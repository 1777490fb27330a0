# Convenience wrappers around dev.py (which needs only Python 3.11+).
.PHONY: setup run test lint bench
setup: ; python3 dev.py setup
run: ; python3 dev.py run
test: ; python3 dev.py test
lint: ; python3 dev.py lint
bench: ; python3 dev.py bench
