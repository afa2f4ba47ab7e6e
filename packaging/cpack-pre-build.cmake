# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): runs on the staging tree of each generator.
# The .rpm carries no LSB init script: RHEL-like systems run systemd, and their /etc/init.d is a
# symlink (to rc.d/init.d) that a package installing into it could turn into a directory.
if(CPACK_GENERATOR STREQUAL "RPM")
  file(GLOB _init_dirs LIST_DIRECTORIES true "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/etc/init.d"
       "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/etc/init.d")
  foreach(_dir IN LISTS _init_dirs)
    file(REMOVE_RECURSE "${_dir}")
  endforeach()
endif()
