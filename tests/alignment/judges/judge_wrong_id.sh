#!/bin/sh
# Test judge: valid JSON, but the id does not match the request.
while read -r line; do echo '{"id":999999,"score":1}'; done
