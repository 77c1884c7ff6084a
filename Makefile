# `make demo` runs a simulated hall; `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VOICE_PACK := var/voice/zh/pack.yaml

.PHONY: demo test lint bench clean fonts mosquitto audio voice-pack

demo: $(STAMP) $(VOICE_PACK)
	$(BIN)/hallkeeper run --config config/demo.yaml --simulate

test: $(STAMP) mosquitto audio
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
	@$(MAKE) --no-print-directory audio
	touch $(STAMP)

# $(call deb,PACKAGE,TEST): install Debian's PACKAGE unless TEST succeeds, as
# root or with password-less sudo; the caller says what is missing otherwise.
define deb
	if ! { $(2); }; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q $(1) >/dev/null || \
			{ apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null; }; \
		elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
			sudo -n apt-get install -y -q $(1) >/dev/null 2>&1; \
		fi; \
	fi
endef

# Tickets print Tibetan (and other scripts printers have no font for) as
# images drawn with this font: Debian's fonts-tibetan-machine.
TIBETAN_FONT := /usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf
fonts:
	@$(call deb,fonts-tibetan-machine,[ -f $(TIBETAN_FONT) ])
	@[ -f $(TIBETAN_FONT) ] || echo "note: no Tibetan font ($(TIBETAN_FONT));" \
		"install fonts-tibetan-machine or set ticket.image_font; tests that need it are skipped"

# Tests start their own mosquitto (Debian's package) on free loopback ports;
# without it they are skipped with a note. Debian starts its own service on
# install; it is left alone (tests do not use it or its port).
MOSQUITTO_FOUND := command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]
mosquitto:
	@$(call deb,mosquitto,$(MOSQUITTO_FOUND))
	@$(MOSQUITTO_FOUND) || echo "note: mosquitto is not installed (apt-get install" \
		"mosquitto); tests against a real broker are skipped"

# Voice: espeak-ng says the words a clip pack lacks and makes the Mandarin
# pack; aplay (alsa-utils) plays announcements. Tests that need them skip
# without them.
audio:
	@$(call deb,espeak-ng,command -v espeak-ng >/dev/null)
	@$(call deb,alsa-utils,command -v aplay >/dev/null)
	@command -v espeak-ng >/dev/null || echo "note: espeak-ng is not installed (apt-get" \
		"install espeak-ng): no Mandarin clip pack is made; voice tests are skipped"
	@command -v aplay >/dev/null || echo "note: aplay is not installed (apt-get install" \
		"alsa-utils): speakers on ALSA cannot play"

voice-pack: $(VOICE_PACK)

# The demo hall's Mandarin clip pack (config/demo.yaml voice.speech.zh.pack),
# made offline with espeak-ng; a recorded pack in its place is left alone.
$(VOICE_PACK): $(STAMP) config/demo.yaml
	@if command -v espeak-ng >/dev/null; then \
		$(BIN)/hallkeeper voice-pack --config config/demo.yaml --language zh; \
	else echo "note: no espeak-ng: the demo speaks only what a pack in var/voice/zh holds"; fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
