<?php
/* Which node answered, and the sticky session as that node sees it. */
require_once __DIR__ . "/lib.php";

pas_session_start();
$_SESSION["count"] = isset($_SESSION["count"]) ? $_SESSION["count"] + 1 : 1;
pas_json(200, array(
    "node"      => pas_instance_id(),
    "hostname"  => gethostname(),
    "sessionId" => session_id(),
    "count"     => $_SESSION["count"],
    "session"   => session_name(),
    "dataPath"  => AJXP_DATA_PATH,
));
