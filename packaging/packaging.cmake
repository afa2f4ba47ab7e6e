# Install rules and CPack packaging (xenballoon-agent, xenballoon-dom0), docs/install.md.
#
# Two components: `agent` (the guest: xenballoond) and `dom0` (the exporter, the monitor, the
# balancer and the dashboards, alerts and example configurations). The programs' own
# install(TARGETS) lines name their component; everything else is installed here.
#   cpack -G DEB --config <tree>/CPackConfig.cmake   (or RPM): one package per component.
# Packages are meant to be built from a Release tree (link-time optimised); any tree works, CPack
# strips the binaries. xenballoon-sim and xenstored-lite are development tools and not packaged.

include(GNUInstallDirs)

set(XENBALLOON_PACKAGE_RELEASE 1 CACHE STRING "Release number of the packages (the -N of 0.1.0-N)")
set(_pkg_src ${PROJECT_SOURCE_DIR}/packaging)
set(_pkg_bin ${PROJECT_BINARY_DIR}/packaging)
set(_unitdir lib/systemd/system)  # under the /usr prefix: /usr/lib/systemd/system

# Man pages: one source, each program's --help (and --version), through help2man at build time.
# name | section | one-line description (the NAME line)
set(_man_pages
    "xenballoond|8|memory balloon agent for Xen guests"
    "xenballoon-exporter|1|Prometheus exporter for the memory of every Xen guest"
    "xenballoon-monitor|1|xentop-like view of every Xen guest's memory"
    "xenballoon-balancer|8|moves host memory to the Xen guests that need it"
    "xenballoon-sim|1|a simulated Xen host for machines without a hypervisor"
    "xenstored-lite|8|a small stand-in for the Xen store daemon")
find_program(HELP2MAN help2man)
find_program(GZIP gzip)
set(XENBALLOON_MAN_PAGES "")
# Not in the sanitizer and fuzzing trees: no package is built from them.
if(XENBALLOON_SANITIZE OR XENBALLOON_FUZZ)
  message(STATUS "No man pages in a sanitizer or fuzzing tree")
elseif(HELP2MAN AND GZIP)
  foreach(_entry IN LISTS _man_pages)
    string(REPLACE "|" ";" _fields "${_entry}")
    list(GET _fields 0 _prog)
    list(GET _fields 1 _section)
    list(GET _fields 2 _what)
    set(_page ${_pkg_bin}/man/${_prog}.${_section}.gz)
    add_custom_command(
      OUTPUT ${_page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_pkg_bin}/man
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=${_section} --name=${_what}
              --source=xenballoon --include=${_pkg_src}/man/common.h2m
              --output=${_pkg_bin}/man/${_prog}.${_section} $<TARGET_FILE:${_prog}>
      # -n: no name or time stamp in the header, the same bytes from the same input
      COMMAND ${GZIP} -9nf ${_pkg_bin}/man/${_prog}.${_section}
      DEPENDS ${_prog} ${_pkg_src}/man/common.h2m
      COMMENT "Man page ${_prog}(${_section})"
      VERBATIM)
    list(APPEND XENBALLOON_MAN_PAGES ${_page})
    set(_man_${_prog} ${_page})
  endforeach()
  add_custom_target(xenballoon-man-pages ALL DEPENDS ${XENBALLOON_MAN_PAGES})
else()
  message(WARNING "help2man or gzip not found: no man pages (the packages lack them)")
endif()

# The Debian changelog and the copyright, in each package's doc directory.
set(XENBALLOON_DEB_VERSION ${PROJECT_VERSION}-${XENBALLOON_PACKAGE_RELEASE})
configure_file(${_pkg_src}/changelog.in ${_pkg_bin}/changelog.Debian @ONLY)
add_custom_command(
  OUTPUT ${_pkg_bin}/changelog.Debian.gz
  COMMAND ${GZIP} -9nc ${_pkg_bin}/changelog.Debian > ${_pkg_bin}/changelog.Debian.gz
  DEPENDS ${_pkg_bin}/changelog.Debian
  VERBATIM)
add_custom_target(xenballoon-changelog ALL DEPENDS ${_pkg_bin}/changelog.Debian.gz)

foreach(_component IN ITEMS agent dom0)
  install(FILES ${_pkg_src}/copyright ${_pkg_bin}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/xenballoon-${_component} COMPONENT ${_component})
endforeach()

# Guest: the agent, its configuration, unit, defaults file, init script, man page.
install(FILES ${PROJECT_SOURCE_DIR}/config/xenballoond.yaml DESTINATION /etc/xenballoon
        COMPONENT agent)
install(FILES ${_pkg_src}/default/xenballoond DESTINATION /etc/default COMPONENT agent)
install(PROGRAMS ${_pkg_src}/init.d/xenballoond DESTINATION /etc/init.d COMPONENT agent)
install(FILES ${PROJECT_SOURCE_DIR}/config/xenballoond.service DESTINATION ${_unitdir}
        COMPONENT agent)

# dom0: the exporter, the monitor, the balancer; their configurations, units, defaults files;
# dashboards and alert rules; example Prometheus, Alertmanager and Grafana configurations.
install(FILES ${PROJECT_SOURCE_DIR}/config/xenballoon-balancer.yaml DESTINATION /etc/xenballoon
        COMPONENT dom0)
install(FILES ${_pkg_src}/default/xenballoon-exporter ${_pkg_src}/default/xenballoon-balancer
        DESTINATION /etc/default COMPONENT dom0)
install(FILES ${PROJECT_SOURCE_DIR}/config/xenballoon-exporter.service
              ${PROJECT_SOURCE_DIR}/config/xenballoon-balancer.service
        DESTINATION ${_unitdir} COMPONENT dom0)
install(FILES ${PROJECT_SOURCE_DIR}/dashboards/xenballoon-dom0.json
              ${PROJECT_SOURCE_DIR}/dashboards/xenballoon-guest.json
              ${PROJECT_SOURCE_DIR}/dashboards/xenballoon-fleet.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/xenballoon/dashboards COMPONENT dom0)
install(FILES ${PROJECT_SOURCE_DIR}/alerts/xenballoon.rules.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/xenballoon/alerts COMPONENT dom0)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/prometheus ${PROJECT_SOURCE_DIR}/config/alertmanager
                  ${PROJECT_SOURCE_DIR}/config/grafana
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/xenballoon-dom0/examples COMPONENT dom0)

if(XENBALLOON_MAN_PAGES)
  install(FILES ${_man_xenballoond} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT agent)
  install(FILES ${_man_xenballoon-exporter} ${_man_xenballoon-monitor}
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT dom0)
  install(FILES ${_man_xenballoon-balancer} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
          COMPONENT dom0)
endif()

# Maintainer scripts (.deb: postinst, prerm, postrm, conffiles; .rpm: %post, %preun, %postun), one
# template each for both packages; the Xen detection (scripts/xen-present.sh) is in all of them.
file(READ ${_pkg_src}/scripts/xen-present.sh XB_XEN_PRESENT)
set(_agent_units xenballoond.service)
set(_agent_initscript xenballoond)
# The init script's part of the .deb scripts (update-rc.d, invoke-rc.d, the mask): agent only.
set(_agent_postinst_init "update-rc.d xenballoond defaults >/dev/null")
set(_agent_postrm_remove_init "deb-systemd-helper mask xenballoond.service >/dev/null || true")
set(_agent_postrm_purge_init "update-rc.d xenballoond remove >/dev/null || true")
set(_agent_role guest)
set(_agent_conffiles /etc/xenballoon/xenballoond.yaml /etc/default/xenballoond /etc/init.d/xenballoond)
set(_dom0_units "xenballoon-exporter.service xenballoon-balancer.service")
set(_dom0_initscript "")
set(_dom0_postinst_init ":")
set(_dom0_postrm_remove_init ":")
set(_dom0_postrm_purge_init ":")
set(_dom0_role dom0)
set(_dom0_conffiles /etc/xenballoon/xenballoon-balancer.yaml /etc/default/xenballoon-exporter
    /etc/default/xenballoon-balancer)
foreach(_component IN ITEMS agent dom0)
  set(XB_PACKAGE xenballoon-${_component})
  set(XB_UNITS ${_${_component}_units})
  set(XB_INITSCRIPT ${_${_component}_initscript})
  set(XB_XEN_ROLE ${_${_component}_role})
  set(XB_POSTINST_INIT ${_${_component}_postinst_init})
  set(XB_POSTRM_REMOVE_INIT ${_${_component}_postrm_remove_init})
  set(XB_POSTRM_PURGE_INIT ${_${_component}_postrm_purge_init})
  set(_out ${_pkg_bin}/deb/${_component})
  foreach(_script IN ITEMS postinst prerm postrm)
    configure_file(${_pkg_src}/deb/${_script}.in ${_out}/${_script} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                    WORLD_READ WORLD_EXECUTE)
  endforeach()
  list(JOIN _${_component}_conffiles "\n" _lines)
  file(CONFIGURE OUTPUT ${_out}/conffiles CONTENT "${_lines}\n" @ONLY)
  foreach(_script IN ITEMS post preun postun)
    configure_file(${_pkg_src}/rpm/${_script}.in ${_pkg_bin}/rpm/${_component}.${_script} @ONLY)
  endforeach()
endforeach()

# ---- CPack --------------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME xenballoon)
set(CPACK_PACKAGE_VENDOR "xenballoon")
set(CPACK_PACKAGE_CONTACT "xenballoon maintainers <maintainers@users.noreply.r-seed-d96e52b7.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL agent dom0)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

# First line: the summary (.deb; the .rpm has CPACK_RPM_<C>_PACKAGE_SUMMARY); an empty line
# separates paragraphs.
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "memory balloon agent for Xen guests
xenballoond balloons a Xen guest's memory to its need (selfballooning) or to
the target dom0 sets (directed ballooning), publishes the guest's memory
statistics to xenstore and serves them as Prometheus metrics.

Install it in the guests; the dom0 side is in xenballoon-dom0.")
set(CPACK_COMPONENT_DOM0_DESCRIPTION
    "memory overcommit for Xen guests: the dom0 programs
xenballoon-exporter serves the memory of every guest as Prometheus metrics,
xenballoon-monitor shows it as a table and xenballoon-balancer moves host
memory to the guests that need it. With Grafana dashboards, Prometheus alert
rules and example Prometheus and Alertmanager configurations.

Install it in dom0; the guests run xenballoon-agent.")

# .deb
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${XENBALLOON_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME xenballoon-agent)
set(CPACK_DEBIAN_DOM0_PACKAGE_NAME xenballoon-dom0)
# The maintainer scripts use deb-systemd-helper and deb-systemd-invoke; the units' ExecReload
# /bin/kill (procps; not in a minimal system).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.52), procps")
# Opened with dlopen(), which shlibdeps cannot see: libssl (TLS and basic auth, when configured),
# libxenctrl and libxenlight (the exporter's host memory, the balancer's maximum memory).
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "libssl3")  # TLS and basic auth, loaded when used
set(CPACK_DEBIAN_DOM0_PACKAGE_RECOMMENDS "libssl3, libxenmisc4.17")
foreach(_component IN ITEMS agent dom0)
  string(TOUPPER ${_component} _C)
  set(_out ${_pkg_bin}/deb/${_component})
  set(CPACK_DEBIAN_${_C}_PACKAGE_CONTROL_EXTRA ${_out}/conffiles ${_out}/postinst ${_out}/prerm
                                              ${_out}/postrm)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# .rpm (requirements found automatically from the binaries)
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE ${XENBALLOON_PACKAGE_RELEASE})
set(CPACK_RPM_PACKAGE_LICENSE "LicenseRef-xenballoon-unlicensed")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_REQUIRES "/usr/bin/kill")  # the units' ExecReload
set(CPACK_RPM_PACKAGE_SUGGESTS "openssl-libs, xen-libs")
set(CPACK_RPM_AGENT_PACKAGE_NAME xenballoon-agent)
set(CPACK_RPM_DOM0_PACKAGE_NAME xenballoon-dom0)
set(CPACK_RPM_AGENT_PACKAGE_SUMMARY "Memory balloon agent for Xen guests")
set(CPACK_RPM_AGENT_PACKAGE_DESCRIPTION "${CPACK_COMPONENT_AGENT_DESCRIPTION}")
set(CPACK_RPM_DOM0_PACKAGE_SUMMARY "Memory overcommit for Xen guests: the dom0 programs")
set(CPACK_RPM_DOM0_PACKAGE_DESCRIPTION "${CPACK_COMPONENT_DOM0_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_REQUIRES_POST "systemd")
set(CPACK_RPM_PACKAGE_REQUIRES_PREUN "systemd")
set(CPACK_RPM_PACKAGE_REQUIRES_POSTUN "systemd")
# Directories the system owns (on usr-merged and RHEL systems some are symlinks).
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/default /etc/init.d /usr/sbin /usr/lib/systemd /usr/lib/systemd/system /usr/share/doc
    /usr/share/man /usr/share/man/man1 /usr/share/man/man8)
set(CPACK_RPM_AGENT_USER_FILELIST
    "%config(noreplace) /etc/xenballoon/xenballoond.yaml"
    "%config(noreplace) /etc/default/xenballoond")
set(CPACK_RPM_DOM0_USER_FILELIST
    "%config(noreplace) /etc/xenballoon/xenballoon-balancer.yaml"
    "%config(noreplace) /etc/default/xenballoon-exporter"
    "%config(noreplace) /etc/default/xenballoon-balancer")
foreach(_component IN ITEMS agent dom0)
  string(TOUPPER ${_component} _C)
  set(CPACK_RPM_${_C}_POST_INSTALL_SCRIPT_FILE ${_pkg_bin}/rpm/${_component}.post)
  set(CPACK_RPM_${_C}_PRE_UNINSTALL_SCRIPT_FILE ${_pkg_bin}/rpm/${_component}.preun)
  set(CPACK_RPM_${_C}_POST_UNINSTALL_SCRIPT_FILE ${_pkg_bin}/rpm/${_component}.postun)
endforeach()
set(CPACK_RPM_SPEC_MORE_DEFINE "%define packager ${CPACK_PACKAGE_CONTACT}")
set(CPACK_RPM_CHANGELOG_FILE ${_pkg_src}/rpm/changelog)

set(CPACK_PRE_BUILD_SCRIPTS ${_pkg_src}/cpack-pre-build.cmake)
set(CPACK_GENERATOR DEB RPM)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
cpack_add_component(agent DISPLAY_NAME "xenballoon-agent")
cpack_add_component(dom0 DISPLAY_NAME "xenballoon-dom0")
