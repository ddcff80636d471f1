# Rewrites a CUDA .cu file for the CUDA emulator (run with sed -z -E: the whole file is one
# pattern space, so launches spanning lines match). See emu_device.h.
s/([A-Za-z_][A-Za-z0-9_]*(<[^<>;()]*>)?)<<<([^;]*)>>>\(/sea_emu_launch("\1", \3)(\1, /g
s/extern __shared__ ([A-Za-z_][A-Za-z0-9_]*) ([A-Za-z_][A-Za-z0-9_]*)\[\];/\1 *\2 = (\1 *)sea_emu::dynamic_smem();/g
