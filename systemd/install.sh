#!/bin/sh
# hallkeeper on a hall's gateway PC (Debian or Ubuntu with systemd).
#
#   安装 install:    sudo systemd/install.sh
#   卸载 uninstall:  sudo systemd/install.sh --uninstall [--purge]
#
# Install puts the program in a venv under /opt/hallkeeper, the hall's config
# under /etc/hallkeeper (an example, only if there is none yet), the service
# unit, the udev rules and the system user; it enables the service and
# restarts it if it was running (an upgrade). Running it again changes only
# what changed. Uninstall removes the program, the unit and the rules, and
# keeps the config and the hall's data (/var/lib/hallkeeper) unless --purge.
#
# ROOT=/some/folder installs into that folder instead of this machine (for
# tests and images): nothing is started, reloaded or enabled on this machine.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${ROOT:-}
PYTHON=${PYTHON:-python3}
PREFIX=/opt/hallkeeper
VENV=$ROOT$PREFIX/venv
UNIT=$ROOT/etc/systemd/system/hallkeeper.service
SYSUSERS=$ROOT/etc/sysusers.d/hallkeeper.conf
RULES=$ROOT/etc/udev/rules.d/61-hallkeeper.rules
NAMES=$ROOT/etc/udev/rules.d/62-hallkeeper-names.rules
CONFIG_DIR=$ROOT/etc/hallkeeper
STATE_DIR=$ROOT/var/lib/hallkeeper
CACHE_DIR=$ROOT/var/cache/hallkeeper
COMMAND=$ROOT/usr/local/bin/hallkeeper

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# systemctl for this machine, or offline for ROOT
systemctl_here() {
	if [ -n "$ROOT" ]; then systemctl --root="$ROOT" "$@"; else systemctl "$@"; fi
}

gid_of() { awk -F: -v name="$1" '$1 == name { print $3 }' "$ROOT/etc/group"; }
uid_of() { awk -F: -v name="$1" '$1 == name { print $3 }' "$ROOT/etc/passwd"; }

# copy $1 to $2 with mode $3 unless $2 has the same content already
put() {
	mkdir -p "$(dirname "$2")"
	if ! cmp -s "$1" "$2"; then
		install -m "$3" "$1" "$2"
		say "  $2"
	fi
}

install_hallkeeper() {
	say "hallkeeper: installing from $SRC${ROOT:+ into $ROOT}"
	put "$SRC/systemd/hallkeeper.sysusers" "$SYSUSERS" 0644
	if [ -n "$ROOT" ]; then
		systemd-sysusers --root="$ROOT" hallkeeper.conf
	else
		systemd-sysusers hallkeeper.conf
	fi
	uid=$(uid_of hallkeeper)
	gid=$(gid_of hallkeeper)
	[ -n "$uid" ] && [ -n "$gid" ] || die "systemd-sysusers made no user hallkeeper"

	if [ -z "$ROOT" ]; then
		debian_packages
	fi
	if [ ! -x "$VENV/bin/python" ]; then
		"$PYTHON" -m venv "$VENV" || die "cannot make a venv: apt-get install python3-venv"
	fi
	"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SRC"
	mkdir -p "$(dirname "$COMMAND")"
	ln -sfn "$PREFIX/venv/bin/hallkeeper" "$COMMAND"
	say "  $VENV"

	install -d -m 0750 -o 0 -g "$gid" "$CONFIG_DIR"
	if [ ! -e "$CONFIG_DIR/hall.yaml" ]; then
		# the demo hall as an example, its store and tokens moved to /var/lib/hallkeeper
		sed -e 's#path: ../var/demo/hall.sqlite3#path: /var/lib/hallkeeper/hall.sqlite3#' \
			-e 's#secrets: ../var/demo/secrets.yaml#secrets: /var/lib/hallkeeper/secrets.yaml#' \
			-e 's#pack: ../var/voice/zh#pack: /var/lib/hallkeeper/voice/zh#' \
			"$SRC/config/demo.yaml" >"$CONFIG_DIR/hall.yaml"
		say "  $CONFIG_DIR/hall.yaml (an example: edit it for this hall)"
	fi
	chown 0:"$gid" "$CONFIG_DIR/hall.yaml"
	chmod 0640 "$CONFIG_DIR/hall.yaml"
	install -d -m 0750 -o "$uid" -g "$gid" "$STATE_DIR" "$CACHE_DIR"
	voice_pack "$uid" "$gid"

	put "$SRC/systemd/hallkeeper.service" "$UNIT" 0644
	put "$SRC/systemd/udev/61-hallkeeper.rules" "$RULES" 0644
	if [ ! -e "$NAMES" ]; then
		put "$SRC/systemd/udev/62-hallkeeper-names.rules" "$NAMES" 0644
	fi

	if [ -z "$ROOT" ]; then
		systemctl daemon-reload
		udevadm control --reload
		udevadm trigger --action=add --subsystem-match=tty --subsystem-match=usb
	fi
	systemctl_here enable --quiet hallkeeper.service
	[ -n "$ROOT" ] || systemctl try-restart hallkeeper.service
	cat <<-EOF
		hallkeeper is installed. 下一步 next steps:
		  1. 编辑大厅配置 edit the hall's config:  /etc/hallkeeper/hall.yaml
		     hallkeeper check-config /etc/hallkeeper/hall.yaml
		  2. 给串口转换器命名 name the serial adapters:  /etc/udev/rules.d/62-hallkeeper-names.rules
		     hallkeeper doctor      (检查本机 checks this PC, lists the adapters)
		  3. systemctl start hallkeeper && hallkeeper status
		  4. hallkeeper token add --role admin      (管理员令牌 an admin token for the API)
		  配置修改后 after editing devices: systemctl reload hallkeeper
	EOF
}

# What the daemon runs besides Python: espeak-ng (the Mandarin clip pack and
# words a pack lacks) and aplay (speakers on ALSA). Left to the hall where
# there is no apt-get.
debian_packages() {
	missing=""
	command -v espeak-ng >/dev/null || missing="$missing espeak-ng"
	command -v aplay >/dev/null || missing="$missing alsa-utils"
	if [ -n "$missing" ] && command -v apt-get >/dev/null; then
		say "  apt-get install$missing"
		# shellcheck disable=SC2086 # one word per package
		apt-get install -y -q $missing >/dev/null || say "  (not installed: install$missing by hand)"
	fi
}

# The Mandarin clip pack at /var/lib/hallkeeper/voice/zh, made once with
# espeak-ng; a pack already there (made or recorded) is left alone.
voice_pack() {
	pack=$STATE_DIR/voice/zh
	if [ -e "$pack/pack.yaml" ] || ! command -v espeak-ng >/dev/null; then
		return 0
	fi
	if "$VENV/bin/hallkeeper" voice-pack --config "$CONFIG_DIR/hall.yaml" --language zh \
		--out "$pack" >/dev/null; then
		chown -R "$1:$2" "$STATE_DIR/voice"
		say "  $pack (Mandarin clips made with espeak-ng)"
	else
		say "  no Mandarin clip pack: see hallkeeper voice-pack --help"
	fi
}

uninstall_hallkeeper() {
	purge=$1
	say "hallkeeper: uninstalling${ROOT:+ from $ROOT}"
	if [ -e "$UNIT" ]; then
		if [ -z "$ROOT" ]; then
			systemctl disable --now --quiet hallkeeper.service || true
		else
			systemctl --root="$ROOT" disable --quiet hallkeeper.service || true
		fi
	fi
	rm -f "$UNIT" "$RULES" "$SYSUSERS" "$COMMAND"
	rm -rf "$ROOT$PREFIX"
	if [ "$purge" = yes ]; then
		rm -rf "$CONFIG_DIR" "$STATE_DIR" "$CACHE_DIR" "$NAMES"
		say "  removed the config, the hall's data and the adapter names"
	else
		say "  kept 保留: $CONFIG_DIR, $STATE_DIR (the hall's data), $NAMES; --purge removes them"
	fi
	if [ -z "$ROOT" ]; then
		systemctl daemon-reload
		udevadm control --reload || true
	fi
	say "  the user hallkeeper stays (system users are never deleted, their files may remain)"
}

case "${1:-}" in
"") ;;
--uninstall) ;;
-h | --help)
	sed -n '2,16p' "$0"
	exit 0
	;;
*) die "unknown option $1 (--uninstall [--purge], --help)" ;;
esac
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
	die "run it as root: sudo $0 $*"
fi
if [ "${1:-}" = --uninstall ]; then
	case "${2:-}" in
	"") uninstall_hallkeeper no ;;
	--purge) uninstall_hallkeeper yes ;;
	*) die "unknown option $2 (--purge)" ;;
	esac
else
	install_hallkeeper
fi
