function main(args) {
  return { message: `Hello ${args.name ?? 'World'}!` };
}
