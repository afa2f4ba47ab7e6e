# Install rules and CPack packaging (xenballoon-agent, xenballoon-dom0).
