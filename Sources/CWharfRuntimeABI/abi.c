// The ABI declarations are in include/; this file only gives the target a translation unit.
