/*
 * The auxiliary vector a program starts with, checked against what it
 * describes (addresses differ between runs, so only relations are
 * printed): AT_PHDR/AT_PHNUM/AT_PHENT are the program's own headers, whose
 * ELF header gives AT_ENTRY (moved by the load bias for a PIE), AT_ENTRY is
 * _start, AT_BASE is the dynamic loader's ELF header (0 for a static
 * program), AT_SYSINFO_EHDR the vDSO's, AT_RANDOM 16 bytes, AT_PLATFORM
 * "x86_64", AT_EXECFN the program's path.
 */
#include "conformance.h"
#include <elf.h>
#include <sys/auxv.h>

extern char _start[];
extern char **environ;

/* The value the kernel put on the stack, past envp's NULL (glibc's
 * getauxval(AT_HWCAP) answers its own idea of the platform instead). */
static unsigned long raw_auxval(unsigned long type)
{
	char **p = environ;
	while (*p)
		p++;
	for (unsigned long *a = (unsigned long *)(p + 1); a[0] != AT_NULL; a += 2)
		if (a[0] == type)
			return a[1];
	return 0;
}

static const char *elf_kind(unsigned long at)
{
	if (at == 0)
		return "0";
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)at;
	if (memcmp(e->e_ident, ELFMAG, SELFMAG) != 0)
		return "not an ELF header";
	return e->e_type == ET_DYN ? "an ELF header, ET_DYN" : e->e_type == ET_EXEC ? "an ELF header, ET_EXEC" : "an ELF header, other";
}

int main(int argc, char **argv)
{
	begin("auxv");
	(void)argc;
	say("getauxval agrees with the stack (AT_PHDR, AT_ENTRY, AT_BASE): %s",
	    yesno(raw_auxval(AT_PHDR) == getauxval(AT_PHDR) && raw_auxval(AT_ENTRY) == getauxval(AT_ENTRY) && raw_auxval(AT_BASE) == getauxval(AT_BASE)));
	say("AT_PHENT = %lu", getauxval(AT_PHENT));
	say("AT_PAGESZ = %lu", getauxval(AT_PAGESZ));
	say("AT_CLKTCK = %lu", getauxval(AT_CLKTCK));
	say("AT_SECURE = %lu", getauxval(AT_SECURE));
	say("AT_FLAGS = %lu", getauxval(AT_FLAGS));
	say("AT_UID, AT_EUID, AT_GID, AT_EGID are the ids: %s",
	    yesno(getauxval(AT_UID) == (unsigned long)getuid() && getauxval(AT_EUID) == (unsigned long)geteuid() &&
		  getauxval(AT_GID) == (unsigned long)getgid() && getauxval(AT_EGID) == (unsigned long)getegid()));
	unsigned long entry = getauxval(AT_ENTRY);
	say("AT_ENTRY is _start: %s", yesno(entry == (unsigned long)_start));

	/* The program headers: find the PT_LOAD at file offset 0 (it holds
	 * the ELF header) and PT_PHDR, which give the load bias. */
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	long bias = -1;
	const Elf64_Phdr *first = 0;
	int loads = 0, interp = 0;
	for (unsigned long i = 0; i < n; i++) {
		if (ph[i].p_type == PT_PHDR)
			bias = (long)((unsigned long)ph - ph[i].p_vaddr);
		if (ph[i].p_type == PT_LOAD) {
			loads++;
			if (ph[i].p_offset == 0 && first == 0)
				first = &ph[i];
		}
		if (ph[i].p_type == PT_INTERP)
			interp = 1;
	}
	say("AT_PHDR: PT_LOAD headers: %s, PT_INTERP: %s", yesno(loads > 0), yesno(interp));
	if (first != 0) {
		/* No PT_PHDR: the headers right after the ELF header (checked
		 * below through e_phoff). */
		if (bias < 0)
			bias = (long)((unsigned long)ph - sizeof(Elf64_Ehdr) - first->p_vaddr);
		const Elf64_Ehdr *e = (const Elf64_Ehdr *)(first->p_vaddr + bias);
		say("  the program's ELF header: %s, its e_phoff leads to AT_PHDR: %s", elf_kind((unsigned long)e),
		    yesno((unsigned long)e + e->e_phoff == (unsigned long)ph));
		say("  e_phnum = AT_PHNUM: %s, e_phentsize = AT_PHENT: %s", yesno(e->e_phnum == n), yesno(e->e_phentsize == getauxval(AT_PHENT)));
		say("  e_entry + bias = AT_ENTRY: %s", yesno(e->e_entry + (e->e_type == ET_DYN ? (unsigned long)bias : 0) == entry));
		say("  load bias: %s", e->e_type == ET_DYN ? (bias > 0 && (bias & 4095) == 0 ? "page aligned, > 0" : "bad") : (bias == 0 ? "0" : "bad"));
	}
	unsigned long base = getauxval(AT_BASE);
	say("AT_BASE: %s, page aligned: %s", elf_kind(base), yesno((base & 4095) == 0));
	if (base != 0) {
		const Elf64_Ehdr *l = (const Elf64_Ehdr *)base;
		const Elf64_Phdr *lph = (const Elf64_Phdr *)(base + l->e_phoff);
		int has_dynamic = 0;
		for (int i = 0; i < l->e_phnum; i++)
			has_dynamic |= lph[i].p_type == PT_DYNAMIC;
		say("  the loader has PT_DYNAMIC: %s", yesno(has_dynamic));
		say("  the loader is apart from the program: %s", yesno(base + 4096 <= (unsigned long)ph - 4096 || base >= entry + 4096));
	}
	say("AT_SYSINFO_EHDR: %s", elf_kind(getauxval(AT_SYSINFO_EHDR)));
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; r && i < 16; i++)
		nonzero |= r[i];
	say("AT_RANDOM: 16 bytes, not all zero: %s", yesno(r != 0 && nonzero));
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	say("AT_PLATFORM = %s", platform ? platform : "(none)");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash ? slash + 1 : argv[0];
	size_t el = execfn ? strlen(execfn) : 0, nl = strlen(name);
	say("AT_EXECFN ends with the program's name: %s", yesno(execfn && el >= nl && strcmp(execfn + el - nl, name) == 0));
	unsigned long hw = raw_auxval(AT_HWCAP);
	say("AT_HWCAP has FPU, TSC, CX8, CMOV, SSE, SSE2: %s", yesno((hw & 0x06008111UL) == 0x06008111UL));
	say("== end");
	return 0;
}
