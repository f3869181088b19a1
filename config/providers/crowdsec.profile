# CrowdSec Local API (1.4+): isolate an address by giving it a ban
# decision, which every bouncer of the LAPI then enforces.
#
# Two credentials, as CrowdSec splits them:
#   key_file, secret_file  a machine (watcher) login and password
#                          (cscli machines add): POST /v1/watchers/login
#                          answers {"token": JWT}; creating alerts and
#                          deleting decisions need that JWT.
#   bouncer_key_file       a bouncer API key (cscli bouncers add), sent as
#                          X-Api-Key: the read-back asks what a bouncer
#                          sees, GET /v1/decisions?ip= (HTTP 200 with body
#                          null when there is no decision).
#
# Isolate: POST /v1/alerts with one alert carrying one ban decision (201,
# ["<alert id>"]); the alert is then read back (GET /v1/alerts/{id}) for
# the decision's id.  Undo deletes exactly that decision
# (DELETE /v1/decisions/{id}): a ban somebody else set on the same address
# stays.  "Isolated" means a ban from this profile's scenario is in force,
# so cordon's decision lives and dies with cordon's action, whatever other
# decisions the address has.  Decisions expire: duration bounds the ban.
# `cscli decisions list` shows only the origins cscli and crowdsec unless
# given -a: use `cscli decisions list -a --origin cordon`.
name = "crowdsec";
description = "CrowdSec LAPI ban decision";
host = "ip";
auth = { type = "login";
	token_url = "${base_url|raw}/v1/watchers/login";
	body = "{\"machine_id\":\"${key|json}\",\"password\":\"${secret|json}\",\"scenarios\":[]}";
	token = "$.token"; };
alt_auth = { type = "header"; name = "X-Api-Key";
	setting = "bouncer_key_file"; };
vars = { scenario = "cordon/isolate"; duration = "168h"; origin = "cordon"; };
# One request at a time: on SQLite the LAPI answers concurrent alert
# writes with HTTP 500 (a busy database), measured on 1.4.6.
max_parallel = 1;
retry = { statuses = [ 429, 502, 503 ]; max_attempts = 3; backoff = 0.5;
	max_wait = 30.0; header = "Retry-After"; form = "delta"; };

state = (
	{ method = "GET"; auth = "alt";
	  url = "${base_url|raw}/v1/decisions?ip=${host|url}";
	  status = [ 200 ]; }
);
isolated = "$[*].scenario == \"${scenario|json}\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/v1/alerts";
	  body = "[{\"scenario\":\"${scenario|json}\",\"scenario_hash\":\"\",\"scenario_version\":\"\",\"message\":\"${reason|json}\",\"events_count\":1,\"start_at\":\"${now|json}\",\"stop_at\":\"${now|json}\",\"capacity\":0,\"leakspeed\":\"0\",\"simulated\":false,\"events\":[],\"labels\":[\"cordon\",\"${incident|json}\",\"${action|json}\"],\"source\":{\"scope\":\"Ip\",\"value\":\"${host|json}\",\"ip\":\"${host|json}\"},\"decisions\":[{\"duration\":\"${duration|json}\",\"type\":\"ban\",\"scope\":\"Ip\",\"value\":\"${host|json}\",\"origin\":\"${origin|json}\",\"scenario\":\"${scenario|json}\"}]}]";
	  status = [ 201 ];
	  capture = { alert_id = "$[0]"; }; },
	{ method = "GET";
	  url = "${base_url|raw}/v1/alerts/${alert_id|url}";
	  status = [ 200 ];
	  success = [ "$.decisions[0].value == \"${host|json}\"",
		"$.decisions[0].type == \"ban\"" ];
	  capture = { decision_id = "$.decisions[0].id"; }; }
);
release = (
	{ method = "DELETE";
	  url = "${base_url|raw}/v1/decisions/${decision_id|url}";
	  status = [ 200 ];
	  success = [ "$.nbDeleted != \"0\"" ]; }
);
