#!/bin/sh
# Install every build and test dependency of cordon on Debian 12.
# Idempotent: packages already present are skipped, and apt is only
# touched when something is missing.
set -eu

PKGS="build-essential pkg-config
libssh-dev libldap-dev libcurl4-openssl-dev libconfig-dev libsqlite3-dev
libcmocka-dev libjansson-dev libssl-dev
slapd ldap-utils sqlite3 util-linux passwd procps
openssh-server openssh-client sshpass sudo
samba samba-ad-dc samba-ad-provision krb5-user ldb-tools winbind smbclient
openssl iproute2
python3 nftables netcat-openbsd curl
iputils-ping conntrack
btrfs-progs restic rsync
pssh ansible
crowdsec rsyslog chromium"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
# A packaged slapd must not start a system daemon on a test machine:
# policy-rc.d (exit 101) keeps invoke-rc.d from starting it.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
# crowdsec's postinst registers with the online Central API; offline that
# fails and leaves dpkg half-configured, breaking every later apt call.  A
# credentials file present beforehand makes it skip the registration (an
# existing one is kept), and dpkg --configure -a mends a machine already
# left broken by an earlier attempt.
case " $missing " in
*" crowdsec "*)
	if [ ! -e /etc/crowdsec/online_api_credentials.yaml ]; then
		mkdir -p /etc/crowdsec
		echo '# no CAPI: cordon runs its own local LAPI only' \
		    >/etc/crowdsec/online_api_credentials.yaml
	fi
	dpkg --configure -a
	;;
esac
apt-get -o DPkg::Lock::Timeout=600 update -q
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
exit 0
