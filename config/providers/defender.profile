# Microsoft Defender for Endpoint: isolate a device.  Contract, Microsoft
# Learn "Defender for Endpoint APIs": Get access with an application
# context (client credentials), List machines (OData $filter on id,
# computerDnsName, lastIpAddress), Isolate machine, Release device from
# isolation, Get machineAction, List MachineActions:
#   POST {login}/{tenant}/oauth2/v2.0/token  client_credentials, scope
#        https://api.securitycenter.microsoft.com/.default
#   GET  /api/machines?$filter=id eq 'H' or computerDnsName eq 'H' or
#        lastIpAddress eq 'H'           (host may be a machine id, a DNS
#        name or an IP: looked up to the machine id before any write)
#   POST /api/machines/{id}/isolate {"Comment","IsolationType"}  -> 201
#        machineAction {"id","type":"Isolate","status":"Pending",...}
#   POST /api/machines/{id}/unisolate {"Comment"}                -> 201
#   GET  /api/machineactions/{actionId}  status Pending|InProgress|
#        Succeeded|Failed|TimeOut|Cancelled
#   An isolation already pending answers 400 ActiveRequestAlreadyExists;
#   rate limits answer 429 with Retry-After (seconds).
# State: the newest succeeded Isolate/Unisolate action of the machine
# ($orderby creationDateTimeUtc desc, $top 1; an assumption: the List
# MachineActions page documents $filter on these fields, not $orderby).
# Set the target's `tenant` (directory id); key_file = application (client)
# id, secret_file = client secret.
name = "defender";
description = "Microsoft Defender for Endpoint device isolation";
host = "id";
auth = { type = "oauth2_client_credentials";
	token_url = "${login_url|raw}/${tenant|url}/oauth2/v2.0/token";
	scope = "https://api.securitycenter.microsoft.com/.default"; };
vars = { login_url = "https://login.microsoftonline.com";
	tenant = "organizations"; isolation_type = "Full"; };
retry = { statuses = [ 429, 500, 502, 503 ]; max_attempts = 4;
	backoff = 0.5; max_wait = 60.0; header = "Retry-After"; form = "delta"; };

state = (
	{ comment = "id, DNS name or IP -> the one machine id";
	  method = "GET";
	  url = "${base_url|raw}/api/machines?$filter=id%20eq%20%27${host|odata|url}%27%20or%20computerDnsName%20eq%20%27${host|odata|url}%27%20or%20lastIpAddress%20eq%20%27${host|odata|url}%27";
	  status = [ 200 ];
	  success = [ "$.value[0].id" ];
	  fail = [ "$.value[1].id" ];
	  capture = { machine_id = "$.value[0].id"; }; },
	{ method = "GET";
	  url = "${base_url|raw}/api/machineactions?$filter=machineId%20eq%20%27${machine_id|odata|url}%27%20and%20status%20eq%20%27Succeeded%27%20and%20(type%20eq%20%27Isolate%27%20or%20type%20eq%20%27Unisolate%27)&$orderby=creationDateTimeUtc%20desc&$top=1";
	  status = [ 200 ];
	  success = [ "$.value" ]; }
);
isolated = "$.value[0].type == \"Isolate\"";

isolate = (
	{ comment = "id, DNS name or IP -> the one machine id";
	  method = "GET";
	  url = "${base_url|raw}/api/machines?$filter=id%20eq%20%27${host|odata|url}%27%20or%20computerDnsName%20eq%20%27${host|odata|url}%27%20or%20lastIpAddress%20eq%20%27${host|odata|url}%27";
	  status = [ 200 ];
	  success = [ "$.value[0].id" ];
	  fail = [ "$.value[1].id" ];
	  capture = { machine_id = "$.value[0].id"; }; },
	{ method = "POST";
	  url = "${base_url|raw}/api/machines/${machine_id|url}/isolate";
	  body = "{\"Comment\":\"${reason|json}\",\"IsolationType\":\"${isolation_type|json}\"}";
	  status = [ 201 ];
	  success = [ "$.type == \"Isolate\"" ];
	  capture = { action_id = "$.id"; };
	  poll = { method = "GET";
		url = "${base_url|raw}/api/machineactions/${action_id|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 120.0;
		done = [ "$.status == \"Succeeded\"" ];
		fail = [ "$.status == \"Failed\"", "$.status == \"Cancelled\"",
			"$.status == \"TimeOut\"" ]; }; }
);
release = (
	{ comment = "id, DNS name or IP -> the one machine id";
	  method = "GET";
	  url = "${base_url|raw}/api/machines?$filter=id%20eq%20%27${host|odata|url}%27%20or%20computerDnsName%20eq%20%27${host|odata|url}%27%20or%20lastIpAddress%20eq%20%27${host|odata|url}%27";
	  status = [ 200 ];
	  success = [ "$.value[0].id" ];
	  fail = [ "$.value[1].id" ];
	  capture = { machine_id = "$.value[0].id"; }; },
	{ method = "POST";
	  url = "${base_url|raw}/api/machines/${machine_id|url}/unisolate";
	  body = "{\"Comment\":\"${reason|json}\"}";
	  status = [ 201 ];
	  success = [ "$.type == \"Unisolate\"" ];
	  capture = { action_id = "$.id"; };
	  poll = { method = "GET";
		url = "${base_url|raw}/api/machineactions/${action_id|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 120.0;
		done = [ "$.status == \"Succeeded\"" ];
		fail = [ "$.status == \"Failed\"", "$.status == \"Cancelled\"",
			"$.status == \"TimeOut\"" ]; }; }
);
