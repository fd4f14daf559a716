<?php
/*
 * Sandbox stand-in for Pydio 8's conf/bootstrap_repositories.php: the two
 * default repositories, with PATH strings that Pydio resolves at runtime
 * (AJXP_DATA_PATH -> the constant, AJXP_USER -> the logged-in user).
 */
$REPOSITORIES[0] = array(
    "DISPLAY"        => "Common Files",
    "DISPLAY_ID"     => "ajxp_conf.3",
    "AJXP_SLUG"      => "default",
    "DRIVER"         => "fs",
    "DRIVER_OPTIONS" => array(
        "PATH"        => "AJXP_DATA_PATH/files",
        "CREATE"      => true,
        "RECYCLE_BIN" => "recycle_bin",
        "CHMOD_VALUE" => "0600",
    ),
);
$REPOSITORIES[1] = array(
    "DISPLAY"        => "My Files",
    "DISPLAY_ID"     => "ajxp_conf.7",
    "AJXP_SLUG"      => "my-files",
    "DRIVER"         => "fs",
    "DRIVER_OPTIONS" => array(
        "PATH"        => "AJXP_DATA_PATH/personal/AJXP_USER",
        "CREATE"      => true,
        "RECYCLE_BIN" => "recycle_bin",
        "CHMOD_VALUE" => "0600",
    ),
);
