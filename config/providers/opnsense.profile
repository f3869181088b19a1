# OPNsense: quarantine by address through a host alias that a block rule
# references (Firewall > Aliases, type "Host(s)"; e.g. "cordon_quarantine").
# API: /api/firewall/alias_util/{add,delete,list}/<alias>; basic auth with
# the API key (key_file) and secret (secret_file).  OPNsense answers HTTP
# 200 even when it refuses: {"status":"failed"}, so success is "done".
name = "opnsense";
description = "OPNsense alias_util on a quarantine alias";
host = "ip";
auth = { type = "basic"; };
vars = { alias = "cordon_quarantine"; };
retry = { statuses = [ 429, 502, 503 ]; max_attempts = 4; backoff = 0.5;
	max_wait = 30.0; header = "Retry-After"; form = "delta"; };

state = (
	{ method = "GET";
	  url = "${base_url|raw}/api/firewall/alias_util/list/${alias|url}";
	  status = [ 200 ];
	  success = [ "$.rows" ]; }
);
isolated = "$.rows[*].ip == \"${host|json}\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/api/firewall/alias_util/add/${alias|url}";
	  idempotent = true;	# the alias is a set (pf table)
	  body = "{\"address\":\"${host|json}\"}";
	  status = [ 200 ];
	  success = [ "$.status == \"done\"" ]; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}/api/firewall/alias_util/delete/${alias|url}";
	  idempotent = true;	# the alias is a set (pf table)
	  body = "{\"address\":\"${host|json}\"}";
	  status = [ 200 ];
	  success = [ "$.status == \"done\"" ]; }
);
