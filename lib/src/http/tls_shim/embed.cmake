# cmake -DINPUT=<file> -DOUTPUT=<file.c> -DSYMBOL=<name> -P embed.cmake: a C array of the bytes of
# INPUT (`const unsigned char SYMBOL[]` and `const unsigned long SYMBOL_size`).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" length)
math(EXPR size "${length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp" "/* generated from ${SYMBOL}'s shared object by embed.cmake */\n"
     "const unsigned char ${SYMBOL}[] = {\n${bytes}\n};\n"
     "const unsigned long ${SYMBOL}_size = ${size};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
