# SentinelOne: disconnect an agent from the network by its agent id.
# Auth: "Authorization: ApiToken <token>" (secret_file).  The action answers
# 200 {"data":{"affected":N}}: affected == 0 means nothing was disconnected
# (wrong id, or no permission), so it is a failure.  The agent reports
# networkStatus connected|disconnecting|disconnected|connecting.
name = "sentinelone";
description = "SentinelOne agent network disconnect";
host = "id";
auth = { type = "header"; name = "Authorization"; prefix = "ApiToken "; };
retry = { statuses = [ 429, 503 ]; max_attempts = 4; backoff = 0.5;
	max_wait = 30.0; header = "Retry-After"; form = "delta"; };

state = (
	{ method = "GET";
	  url = "${base_url|raw}/web/api/v2.1/agents?ids=${host|url}";
	  status = [ 200 ];
	  success = [ "$.data" ]; }
);
isolated = "$.data[0].networkStatus == \"disconnected\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/web/api/v2.1/agents/actions/disconnect";
	  body = "{\"filter\":{\"ids\":[\"${host|json}\"]}}";
	  status = [ 200 ];
	  success = [ "$.data.affected > 0" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/web/api/v2.1/agents?ids=${host|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.data[0].networkStatus == \"disconnected\"" ]; }; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}/web/api/v2.1/agents/actions/connect";
	  body = "{\"filter\":{\"ids\":[\"${host|json}\"]}}";
	  status = [ 200 ];
	  success = [ "$.data.affected > 0" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/web/api/v2.1/agents?ids=${host|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.data[0].networkStatus == \"connected\"" ]; }; }
);
