#!/bin/sh
# Test judge: reads a request and never answers.
read -r line
sleep 30
