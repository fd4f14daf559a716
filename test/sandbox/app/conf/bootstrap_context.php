<?php
/*
 * Sandbox stand-in for Pydio 8's conf/bootstrap_context.php: the same
 * constants, defined the same way, so that the configure script's edits
 * (pointing AJXP_DATA_PATH at the GlusterFS data volume) take effect here.
 * The paths are Pydio's own defaults (pydio/pydio-core core/src/conf/bootstrap_context.php:
 * AJXP_DATA_PATH, AJXP_CACHE_DIR, AJXP_SHARED_CACHE_DIR, AJXP_PLUGINS_CACHE_FILE).
 * The session name is not set here: Pydio fixes it in SessionService.php (see lib.php).
 */
define("AJXP_INSTALL_PATH", realpath(dirname(__FILE__) . "/.."));
define("AJXP_CONF_PATH", AJXP_INSTALL_PATH . "/conf");
define("AJXP_DATA_PATH", AJXP_INSTALL_PATH . "/data");
define("AJXP_CACHE_DIR", AJXP_DATA_PATH . "/cache");
define("AJXP_SHARED_CACHE_DIR", AJXP_INSTALL_PATH . "/data/cache");
define("AJXP_PLUGINS_CACHE_FILE", AJXP_CACHE_DIR . "/plugins_cache.ser");
define("AJXP_SERVER_ACCESS", "index.php");
