#!/usr/bin/env bash
# ssh.sh NAME CMD...: runs a command on a lab node as root.
source "$(dirname "$0")/lib.sh"
NAME=$1; shift
node_ssh "$NAME" "$@"
