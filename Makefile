# `make demo` runs a simulated hall; `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean fonts mosquitto

demo: $(STAMP)
	$(BIN)/hallkeeper run --config config/demo.yaml --simulate

test: $(STAMP) mosquitto
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/hallkeeper bench core

# Debian's python3 lacks ensurepip unless python3-venv is installed; fall back
# to virtualenv from PyPI so a machine with only Python, pip and make works.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); \
		$(PYTHON) -m pip install --user --quiet virtualenv && \
		$(PYTHON) -m virtualenv --quiet $(VENV); }

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@$(MAKE) --no-print-directory fonts
	@$(MAKE) --no-print-directory mosquitto
	touch $(STAMP)

# Tickets print Tibetan (and other scripts printers have no font for) as
# images drawn with this font: Debian's fonts-tibetan-machine.
TIBETAN_FONT := /usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf
fonts:
	@if [ ! -f $(TIBETAN_FONT) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q fonts-tibetan-machine >/dev/null || \
			{ apt-get update -q >/dev/null && apt-get install -y -q fonts-tibetan-machine >/dev/null; }; \
		elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
			sudo -n apt-get install -y -q fonts-tibetan-machine >/dev/null 2>&1; \
		fi; \
		[ -f $(TIBETAN_FONT) ] || echo "note: no Tibetan font ($(TIBETAN_FONT));" \
			"install fonts-tibetan-machine or set ticket.image_font; tests that need it are skipped"; \
	fi

# Tests start their own mosquitto (Debian's package) on free loopback ports;
# without it they are skipped with a note. Debian starts its own service on
# install; it is left alone (tests do not use it or its port).
MOSQUITTO_FOUND := command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]
mosquitto:
	@if ! { $(MOSQUITTO_FOUND); }; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q mosquitto >/dev/null || \
			{ apt-get update -q >/dev/null && apt-get install -y -q mosquitto >/dev/null; }; \
		elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
			sudo -n apt-get install -y -q mosquitto >/dev/null 2>&1; \
		fi; \
		$(MOSQUITTO_FOUND) || echo "note: mosquitto is not installed (apt-get install" \
			"mosquitto); tests against a real broker are skipped"; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
