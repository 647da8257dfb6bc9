#!/bin/sh
# Installs the pinned npm packages the signalling tests and benchmark use (ws,
# bittorrent-tracker). --ignore-scripts: bittorrent-tracker's optional node-datachannel
# install script downloads from GitHub; the tests fake WebRTC instead (fake_webrtc.mjs).
set -eu
cd "$(dirname "$(readlink -f "$0")")"
npm ci --ignore-scripts --no-audit --no-fund
