// Compiled alone by ctest public_header_alone: the public header needs only the standard library.
#include <diviml/diviml.h>

int main() { return diviml::api::Diviml::options().empty() ? 1 : 0; }
