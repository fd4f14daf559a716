<?php
/*
 * Sandbox stand-in for Pydio 8's conf/bootstrap_conf.php, as Pydio ships it
 * (pydio/pydio-core core/src/conf/bootstrap_conf.php): extra php.ini settings in
 * $AJXP_INISET, applied with ini_set on every request (see lib.php), and the
 * session.save_path override left commented out. configure-app.sh refuses an
 * active session.save_path line here: it would keep sessions on the node.
 */
define("AJXP_LOCALE", "UTF8");
$AJXP_INISET = array();
//$AJXP_INISET["session.save_path"] = AJXP_DATA_PATH."/tmp/sessions";
//$AJXP_INISET["session.cookie_path"] = "/ajaxplorer";
