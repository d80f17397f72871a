/*
 * bcryptprimitives.dll for Wine 8.0 (Debian 12), used only by
 * scripts/test-windows-wine.sh.
 *
 * Go's Windows runtime (1.22 and later) takes its random bytes from
 * ProcessPrng in bcryptprimitives.dll, which every Windows 10 and 11 has and
 * Wine 8.0 lacks: without it the runtime stops before main ("fatal error:
 * bcryptprimitives.dll not found"). This one export fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), which Wine provides, so the
 * command line can be tried against the Credential Manager Wine implements.
 * It is copied into the throw-away Wine prefix's system32 and nowhere else.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, n))
      return FALSE;
    data += n;
    length -= n;
  }
  return TRUE;
}
